import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { progressReporter } from '../src/cli/progress';
import type { NewEvent } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store';
import type { RebuildResult } from '../src/projections/projection-rebuild';
import { SqliteReadModel } from '../src/read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../src/shared/clock';
import { STORE_FILES } from '../src/sqlite/store-files';
import { streamNameFor, transactionIdFor } from '../src/transactions/transaction-id';
import { CURRENT_SCHEMA_VERSION } from '../src/transactions/transaction-streams';
import { SUMMARY_PROJECTION } from '../src/transactions/transaction-summary.projection';
import { rebuildTransactionSummaries } from '../src/transactions/transaction-summary.rebuild';
import type { TransactionEvent } from '../src/transactions/transaction.events';

const USAGE = `Usage: npm run bench:rebuild -- [options]

Generates an embedded event store of N events (realistic transaction streams appended straight
through SqliteEventStore, concurrently, so they share group commits), then times a full rebuild
of ${SUMMARY_PROJECTION} into an empty read model and a second one replacing that full copy,
against the goal of ${(100_000).toLocaleString('en')} events/s.

  --events <n>        events to generate, rounded to whole transactions (default 1000000)
  --batch <n>         transactions appended concurrently (default 5000)
  --batch-events <n>  rebuild: events per commit (default: the CLI's)
  --data-parent <dir> where the store is made (default the OS temp dir)
  --keep-data         keep the store (then: DATA_DIR=<dir> npm run projections -- status)
  --store <dir>       time rebuilds of the events.sqlite already in <dir> (one made with
                      --keep-data) into a fresh read model, instead of generating one
`;

const GOAL_EVENTS_PER_SECOND = 100_000;

/**
 * After TransactionRequested, one of three provider flows with their real event shapes: a final
 * answer to the POST (most), a pending answer and a webhook, or a 504 settled by a status check.
 */
function providerEvents(index: number, at: (seconds: number) => string): TransactionEvent[] {
  const started: TransactionEvent = {
    type: 'ProviderSubmissionStarted',
    data: { attempt: 1, startedAt: at(0.01) },
  };
  const confirmed = (source: 'submission' | 'webhook' | 'status_check', seconds: number) =>
    ({
      type: 'StatusConfirmed',
      data: {
        status: index % 10 === 0 ? 'FAILED' : 'SUCCEEDED',
        source,
        providerStatus: index % 10 === 0 ? 'declined' : 'completed',
        reason: null,
        at: at(seconds),
      },
    }) satisfies TransactionEvent;
  switch (index % 20) {
    case 0:
    case 1:
    case 2:
      return [
        started,
        {
          type: 'ProviderTimedOut',
          data: { attempt: 1, reason: 'gateway_timeout', detail: '504', at: at(30) },
        },
        {
          type: 'StatusCheckScheduled',
          data: { attempt: 1, checkNumber: 1, dueAt: at(31), reason: 'gateway_timeout' },
        },
        {
          type: 'StatusChecked',
          data: { attempt: 1, checkNumber: 1, result: 'completed', at: at(31) },
        },
        confirmed('status_check', 31),
      ];
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
      return [
        started,
        { type: 'ProviderAccepted', data: { attempt: 1, at: at(2) } },
        confirmed('webhook', 15),
      ];
    default:
      return [started, confirmed('submission', 1.5)];
  }
}

function lifeOf(index: number): { streamName: string; events: TransactionEvent[] } {
  const owner = `owner-${index % 1000}`;
  const clientId = `bench-${index}`;
  const transactionId = transactionIdFor(owner, clientId);
  const at = (seconds: number) =>
    new Date(Date.UTC(2026, 5, 1) + index * 20 + seconds * 1000).toISOString();
  const requested: TransactionEvent = {
    type: 'TransactionRequested',
    data: {
      transactionId,
      owner,
      clientId,
      amount: 1000 + (index % 5000),
      currency: 'KES',
      recipient: `+2547${String(index).padStart(8, '0')}`,
      note: index % 3 === 0 ? 'rent' : null,
      requestedAt: at(0),
    },
  };
  return {
    streamName: streamNameFor(transactionId),
    events: [requested, ...providerEvents(index, at)],
  };
}

function toNewEvents(events: TransactionEvent[], actor: string): NewEvent[] {
  const correlationId = randomUUID();
  return events.map((event) => ({
    id: randomUUID(),
    type: event.type,
    data: { ...event.data },
    metadata: {
      correlationId,
      causationId: correlationId,
      actor,
      schemaVersion: CURRENT_SCHEMA_VERSION,
    },
  }));
}

/**
 * Per batch of transactions: every request, then every transaction's provider events, each
 * round appended concurrently so the store group-commits them. Streams interleave in $all the
 * way concurrent traffic makes them.
 */
async function generate(store: SqliteEventStore, events: number, batch: number): Promise<void> {
  const progress = progressReporter('bench generate');
  let written = 0;
  for (let first = 0; written < events; first += batch) {
    const lives = Array.from({ length: batch }, (_, offset) => lifeOf(first + offset));
    await Promise.all(
      lives.map(({ streamName, events: [requested] }) =>
        store.appendToStream(streamName, toNewEvents([requested], 'customer:bench'), {
          expectedRevision: 'no_stream',
        }),
      ),
    );
    await Promise.all(
      lives.map(({ streamName, events: [, ...rest] }) =>
        store.appendToStream(streamName, toNewEvents(rest, 'process-manager'), {
          expectedRevision: 0n,
        }),
      ),
    );
    written += lives.reduce((sum, life) => sum + life.events.length, 0);
    progress.update('generating', Math.min(written, events), events, 'events');
  }
  progress.stop();
}

async function timedRebuild(
  label: string,
  store: SqliteEventStore,
  readModel: SqliteReadModel,
  batchEvents: number | undefined,
): Promise<RebuildResult> {
  const progress = progressReporter(label);
  try {
    return await rebuildTransactionSummaries(store, readModel, {
      batchEvents,
      onProgress: ({ position, head }) =>
        progress.update('rebuilding', Number(position), Number(head), 'events'),
    });
  } finally {
    progress.stop();
  }
}

function positiveInteger(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : Number.NaN;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      batch: { type: 'string', default: '5000' },
      'batch-events': { type: 'string' },
      'data-parent': { type: 'string', default: tmpdir() },
      'keep-data': { type: 'boolean', default: false },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const events = positiveInteger(values.events)!;
  const batch = positiveInteger(values.batch)!;
  const batchEvents = positiveInteger(values['batch-events']);
  if (values.help || [events, batch, batchEvents].some((n) => Number.isNaN(n))) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.store !== undefined && !existsSync(join(values.store, STORE_FILES.events))) {
    console.error(`${join(values.store, STORE_FILES.events)} does not exist`);
    return 2;
  }
  const dataDir = mkdtempSync(join(values['data-parent'], 'ledger-rebuild-bench-'));
  const storePath = join(values.store ?? dataDir, STORE_FILES.events);
  const store = new SqliteEventStore({ path: storePath, clock: new SystemClock() });
  const readModel = new SqliteReadModel({ path: join(dataDir, STORE_FILES.readModel) });
  try {
    if (values.store === undefined) {
      const generateStart = performance.now();
      await generate(store, events, batch);
      const generateSeconds = (performance.now() - generateStart) / 1000;
      const head = await store.headPosition();
      console.log(
        `store: ${head} events generated in ${generateSeconds.toFixed(1)} s ` +
          `(${Math.round(Number(head) / generateSeconds)} events/s) in ${dataDir}`,
      );
    } else {
      console.log(`store: ${await store.headPosition()} events in ${storePath}`);
    }
    let met = true;
    for (const label of ['rebuild into an empty read model', 'rebuild replacing that copy']) {
      const result = await timedRebuild(label, store, readModel, batchEvents);
      const rate = Math.round(result.events / (result.elapsedMs / 1000));
      met &&= rate >= GOAL_EVENTS_PER_SECOND;
      console.log(
        `${label}: ${result.events} events in ${(result.elapsedMs / 1000).toFixed(2)} s, ` +
          `${rate.toLocaleString('en')} events/s (goal ${GOAL_EVENTS_PER_SECOND.toLocaleString('en')}: ` +
          `${rate >= GOAL_EVENTS_PER_SECOND ? 'met' : 'NOT met'})`,
      );
    }
    return met ? 0 : 1;
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
