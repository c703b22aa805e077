import { AccountBalancesProjection } from '../src/accounts/account-balances.projection';
import { SqliteAccountReadModel } from '../src/read-model/sqlite/sqlite-account-read-model';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { accountStreamName } from '../src/accounts/account-id';
import { ACCOUNT_SCHEMA_VERSION } from '../src/accounts/account-streams';
import type { AccountEvent } from '../src/accounts/account.events';
import { verifyAll } from '../src/audit/audit-verifier';
import { progressReporter } from '../src/cli/progress';
import { sqliteReadModelStreamNames } from '../src/audit/sqlite-read-model-rows';
import type { NewEvent } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store';
import type { TransactionSummary } from '../src/transactions/read-model.port';
import { SqliteReadModel } from '../src/read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../src/shared/clock';
import { STORE_FILES } from '../src/sqlite/store-files';
import { streamNameFor, transactionIdFor } from '../src/transactions/transaction-id';
import { CURRENT_SCHEMA_VERSION } from '../src/transactions/transaction-streams';
import { projectTransactionSummary } from '../src/transactions/transaction-summary.projection';
import type { TransactionEvent } from '../src/transactions/transaction.events';
import { isTransactionStreamEvent } from '../src/transactions/transaction-streams';

const USAGE = `Usage: npm run bench:audit-verify -- [options]

Builds a fresh embedded store (event store and summary read model) of N events, written
straight through SqliteEventStore and the summary projection (each transaction with its owner's
funded account, its hold posted), then runs audit verify over it
and prints its throughput.

  --events <n>        events to write, rounded to whole transactions (default 200000; 1000000 works)
  --batch <n>         transactions appended concurrently, one group commit per 500 (default 5000)
  --data-parent <dir> where the store is made (default the OS temp dir)
  --keep-data         keep the store afterwards (then: DATA_DIR=<dir> npm run audit -- verify)
`;

/** Projection commits of this many events, as the live runner does ($all pages of 1000). */
const PROJECTION_PAGE = 1000;
const SUMMARY_PROJECTION = 'transaction-summaries';

/** A typical provider flow: a 200 after a pending answer and one status check. */
function lifeOf(owner: string, clientId: string, index: number): TransactionEvent[] {
  const at = (seconds: number) => new Date(Date.UTC(2026, 5, 1) + index * 10 + seconds * 1000);
  const iso = (seconds: number) => at(seconds).toISOString();
  return [
    {
      type: 'TransactionRequested',
      data: {
        transactionId: transactionIdFor(owner, clientId),
        owner,
        clientId,
        amount: 1000 + (index % 5000),
        currency: 'KES',
        recipient: `+2547${String(index).padStart(8, '0')}`,
        note: index % 3 === 0 ? 'rent' : null,
        requestedAt: iso(0),
      },
    },
    { type: 'ProviderSubmissionStarted', data: { attempt: 1, startedAt: iso(0.01) } },
    { type: 'ProviderAccepted', data: { attempt: 1, at: iso(0.5) } },
    {
      type: 'StatusCheckScheduled',
      data: { attempt: 1, checkNumber: 1, dueAt: iso(30), reason: 'provider_pending' },
    },
    {
      type: 'StatusChecked',
      data: { attempt: 1, checkNumber: 1, result: 'completed', at: iso(30) },
    },
    {
      type: 'StatusConfirmed',
      data: {
        status: 'SUCCEEDED',
        source: 'status_check',
        providerStatus: 'completed',
        reason: null,
        at: iso(30),
      },
    },
  ];
}

/** The money of that flow: the owner's account funded, the amount held, then posted. */
function accountLifeOf(transaction: TransactionEvent): AccountEvent[] {
  if (transaction.type !== 'TransactionRequested') throw new Error('not a request');
  const { transactionId: holdId, owner, amount, currency, requestedAt: at } = transaction.data;
  return [
    { type: 'AccountOpened', data: { owner, currency, openedAt: at } },
    { type: 'FundsDeposited', data: { depositId: holdId, amount, reference: 'bench', at } },
    { type: 'FundsHeld', data: { holdId, amount, expiresAt: at, at } },
    { type: 'HoldPosted', data: { holdId, amount, at } },
  ];
}

function toNewEvent(
  event: TransactionEvent | AccountEvent,
  index: number,
  correlationId: string,
  schemaVersion = CURRENT_SCHEMA_VERSION,
): NewEvent {
  return {
    id: randomUUID(),
    type: event.type,
    data: { ...event.data },
    metadata: {
      correlationId,
      causationId: correlationId,
      actor: index === 0 ? 'customer:bench' : 'process-manager',
      schemaVersion,
    },
  };
}

/**
 * Appends batch by batch, one event per transaction per round, so streams interleave in $all;
 * then each transaction's account (one owner per transaction, so appends never contend).
 */
async function writeEvents(store: SqliteEventStore, events: number, batch: number): Promise<void> {
  const sample = lifeOf('bench', 'x', 0);
  const perTransaction = sample.length + accountLifeOf(sample[0]).length;
  const transactions = Math.ceil(events / perTransaction);
  const progress = progressReporter('bench write');
  for (let first = 0; first < transactions; first += batch) {
    const lives = Array.from({ length: Math.min(batch, transactions - first) }, (_, offset) => {
      const index = first + offset;
      const clientId = `bench-${index}`;
      const owner = `bench-${index}`;
      return { stream: streamNameFor(transactionIdFor(owner, clientId)), owner, index, clientId };
    });
    const flows = lives.map(({ owner, index, clientId }) => lifeOf(owner, clientId, index));
    for (let round = 0; round < sample.length; round++) {
      // Concurrent appends of one round share the store's group commits.
      await Promise.all(
        lives.map(({ stream, clientId }, i) =>
          store.appendToStream(stream, [toNewEvent(flows[i][round], round, clientId)], {
            expectedRevision: round === 0 ? 'no_stream' : BigInt(round - 1),
          }),
        ),
      );
    }
    await Promise.all(
      lives.map(({ owner, clientId }, i) =>
        store.appendToStream(
          accountStreamName(owner, 'KES'),
          accountLifeOf(flows[i][0]).map((event, index) =>
            toNewEvent(event, index, clientId, ACCOUNT_SCHEMA_VERSION),
          ),
          { expectedRevision: 'no_stream' },
        ),
      ),
    );
    progress.update(
      'writing',
      (first + lives.length) * perTransaction,
      transactions * perTransaction,
      'events',
    );
  }
  progress.stop();
}

/** What TransactionSummaryProjection does, without the live subscription. */
async function project(
  store: SqliteEventStore,
  readModel: SqliteReadModel,
  accountReadModel: SqliteAccountReadModel,
): Promise<void> {
  const accounts = new AccountBalancesProjection(accountReadModel);
  const head = await store.headPosition();
  const progress = progressReporter('bench project');
  for (let after = 0n; after < head;) {
    const page = await store.readAll({ after, maxCount: PROJECTION_PAGE });
    const last = page.at(-1);
    if (!last) break;
    const current = await readModel.loadSummaries([...new Set(page.map((e) => e.streamName))]);
    for (const event of page.filter(isTransactionStreamEvent)) {
      const next = projectTransactionSummary(current.get(event.streamName), event);
      if (next) current.set(event.streamName, next);
    }
    const summaries: TransactionSummary[] = [...current.values()];
    await readModel.commit(SUMMARY_PROJECTION, { summaries, checkpoint: last.position });
    await accounts.apply(page, last.position);
    after = last.position;
    progress.update('projecting', Number(after), Number(head), 'events');
  }
  progress.stop();
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      batch: { type: 'string', default: '5000' },
      'data-parent': { type: 'string', default: tmpdir() },
      'keep-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const events = Number(values.events);
  const batch = Number(values.batch);
  if (
    values.help ||
    !Number.isSafeInteger(events) ||
    events < 1 ||
    !Number.isSafeInteger(batch) ||
    batch < 1
  ) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const dataDir = mkdtempSync(join(values['data-parent'], 'ledger-audit-bench-'));
  const readModelPath = join(dataDir, STORE_FILES.readModel);
  const store = new SqliteEventStore({
    path: join(dataDir, STORE_FILES.events),
    clock: new SystemClock(),
  });
  const readModel = new SqliteReadModel({ path: readModelPath });
  const accountReadModel = new SqliteAccountReadModel({
    path: join(dataDir, STORE_FILES.accountReadModel),
  });
  try {
    const writeStart = performance.now();
    await writeEvents(store, events, batch);
    const written = await store.headPosition();
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const projectStart = performance.now();
    await project(store, readModel, accountReadModel);
    const projectSeconds = (performance.now() - projectStart) / 1000;

    const progress = progressReporter('audit verify');
    const report = await verifyAll(
      {
        eventStore: store,
        readModel,
        readModelStreamNames: () => sqliteReadModelStreamNames(readModelPath),
        accountReadModel,
      },
      {
        onProgress: ({ phase, done, total }) =>
          progress.update(
            phase === 'reading' ? 'reading $all' : 'comparing',
            done,
            total,
            phase === 'reading' ? 'events' : 'streams',
          ),
      },
    );
    progress.stop();
    const verifySeconds = report.elapsedMs / 1000;
    const rate = (count: number | bigint, seconds: number) => Math.round(Number(count) / seconds);
    console.log(`store: ${written} events in ${report.streams} streams (${dataDir})`);
    console.log(
      `  written in ${writeSeconds.toFixed(1)} s (${rate(written, writeSeconds)} events/s)`,
    );
    console.log(
      `  projected in ${projectSeconds.toFixed(1)} s (${rate(written, projectSeconds)} events/s)`,
    );
    console.log(
      `audit verify: ${report.events} events, ${report.streams} streams in ` +
        `${verifySeconds.toFixed(2)} s: ${rate(report.events, verifySeconds)} events/s, ` +
        `${report.differences.length} differences`,
    );
    return report.differences.length === 0 ? 0 : 1;
  } finally {
    await store.close();
    await readModel.close();
    if (!values['keep-data']) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
