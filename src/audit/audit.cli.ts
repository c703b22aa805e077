import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppConfig } from '../config/app-config';
import { STORE_FILES } from '../sqlite/store-files';
import { UsageError, positiveIntegerFlag, runCli } from '../cli/cli';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SqliteAccountReadModel } from '../read-model/sqlite/sqlite-account-read-model';
import { SqliteReadModel } from '../read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../shared/clock';
import { streamNameFor } from '../transactions/transaction-id';
import { transactionIdOfTarget } from './audit-target';
import { MoneyReport, VerifyReport, verifyAll } from './audit-verifier';
import { progressReporter } from '../cli/progress';
import { sqliteReadModelStreamNames } from './sqlite-read-model-rows';
import { Difference, auditEvent, startStreamAudit } from './stream-audit';
import { formatTimeline, timelineEntry } from './timeline';

const USAGE = `Usage: npm run audit -- verify [--page-size <events>] [--catch-up-timeout-ms <ms>]
       npm run audit -- history <transactionId | owner/clientId>

verify   replays every transaction and account stream: recomputes its hash chain, folds it
         through evolve and compares the result with the read model; proves the money: per
         currency every balance sums to zero, every hold matches its transaction, no hold took
         an account below its overdraft. Prints the totals per currency, then warnings (not
         failures) and the differences. Exits 1 on any difference.
history  prints one transaction's events as a timeline, then checks its hash chain.

Reads DATA_DIR like the service (embedded default only) and never writes: safe while it runs.`;

interface Stores {
  eventStore: SqliteEventStore;
  readModel: SqliteReadModel;
  accountReadModel: SqliteAccountReadModel;
  readModelPath: string;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'page-size': { type: 'string' },
      'catch-up-timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const isVerify = command === 'verify' && rest.length === 0;
  if (!isVerify && !(command === 'history' && rest.length === 1)) throw new UsageError(USAGE);
  const verifyOptions = {
    pageSize: positiveIntegerFlag(values['page-size'], '--page-size'),
    catchUpTimeoutMs: positiveIntegerFlag(values['catch-up-timeout-ms'], '--catch-up-timeout-ms'),
  };
  const stores = openStores(AppConfig.fromEnvironment(process.env));
  try {
    return isVerify ? await verify(stores, verifyOptions) : await history(stores, rest[0]);
  } finally {
    await stores.eventStore.close();
    await stores.readModel.close();
    await stores.accountReadModel.close();
  }
}

/** The embedded default's files, opened directly. The CLI only ever reads through them. */
function openStores(config: AppConfig): Stores {
  if (config.eventStore !== 'sqlite' || config.readModel !== 'sqlite') {
    throw new UsageError('audit verifies the embedded default (EVENT_STORE=READ_MODEL=sqlite)');
  }
  const eventStorePath = join(config.dataDir, STORE_FILES.events);
  const readModelPath = join(config.dataDir, STORE_FILES.readModel);
  const accountReadModelPath = join(config.dataDir, STORE_FILES.accountReadModel);
  for (const path of [eventStorePath, readModelPath, accountReadModelPath]) {
    // Opening a missing file would create an empty store and "verify" it.
    if (!existsSync(path)) throw new UsageError(`${path} does not exist: is DATA_DIR right?`);
  }
  return {
    eventStore: new SqliteEventStore({ path: eventStorePath, clock: new SystemClock() }),
    readModel: new SqliteReadModel({ path: readModelPath, readOnly: true }),
    accountReadModel: new SqliteAccountReadModel({ path: accountReadModelPath, readOnly: true }),
    readModelPath,
  };
}

async function verify(
  stores: Stores,
  options: { pageSize?: number; catchUpTimeoutMs?: number },
): Promise<number> {
  const progress = progressReporter('audit verify');
  let report: VerifyReport;
  try {
    report = await verifyAll(
      {
        eventStore: stores.eventStore,
        readModel: stores.readModel,
        readModelStreamNames: () => sqliteReadModelStreamNames(stores.readModelPath),
        accountReadModel: stores.accountReadModel,
      },
      {
        ...options,
        clock: new SystemClock(),
        onProgress: ({ phase, done, total }) =>
          phase === 'reading'
            ? progress.update('reading $all', done, total, 'events')
            : progress.update('comparing', done, total, 'streams'),
      },
    );
  } finally {
    progress.stop();
  }
  const seconds = report.elapsedMs / 1000;
  console.log(
    `audit verify: ${report.streams} streams, ${report.events} events up to position ` +
      `${report.headPosition} in ${seconds.toFixed(2)} s ` +
      `(${Math.round(report.events / Math.max(seconds, 0.001))} events/s), ` +
      `${report.differences.length} differences`,
  );
  for (const line of formatMoney(report.money)) console.log(line);
  for (const difference of report.differences) console.log(formatDifference(difference));
  return report.differences.length > 0 ? 1 : 0;
}

/** Balances as each account sees them: credits positive, so each currency's columns sum to 0. */
function formatMoney({ accounts, currencies, warnings, exemptions }: MoneyReport): string[] {
  return [
    `money: ${accounts} accounts in ${currencies.length} currencies, ` +
      `${warnings.length} warnings, ${exemptions.length} overdraft exemptions`,
    ...currencies.map(
      ({ currency, accounts, customers, funding, clearing }) =>
        `  ${currency}: ${accounts} accounts; posted: customers ${customers.posted}, ` +
        `funding ${funding.posted}, clearing ${clearing.posted}, ` +
        `sum ${customers.posted + funding.posted + clearing.posted}; ` +
        `pending: customers ${customers.pending}, clearing ${clearing.pending}, ` +
        `sum ${customers.pending + clearing.pending}`,
    ),
    ...warnings.map(({ streamName, message }) => `  warning ${streamName}  ${message}`),
    ...exemptions.map(
      ({ streamName, revision, holdId, amount, availableAfter }) =>
        `  exempt ${streamName}  VoidedHoldPosted@${revision} of ${amount} (hold ${holdId}) ` +
        `left available ${availableAfter}: the money had already left`,
    ),
  ];
}

async function history(stores: Stores, target: string): Promise<number> {
  const transactionId = transactionIdOfTarget(target);
  if (transactionId === null) {
    throw new UsageError(`"${target}" is neither a transaction id nor owner/clientId`);
  }
  const streamName = streamNameFor(transactionId);
  const events = await stores.eventStore.readStream(streamName);
  if (events.length === 0) {
    console.error(`No events for ${target} (stream ${streamName})`);
    return 1;
  }
  console.log(`${streamName}: ${events.length} events`);
  for (const line of formatTimeline(events.map(timelineEntry))) console.log(line);
  // The stream alone: comparing with the read model is verify's job, which allows for a live
  // projection being a few events ahead or behind.
  const { differences } = events.reduce(auditEvent, startStreamAudit(streamName));
  console.log(
    differences.length === 0
      ? 'hash chain intact'
      : `${differences.length} differences in the stream:`,
  );
  for (const difference of differences) console.log(formatDifference(difference));
  return differences.length > 0 ? 1 : 0;
}

function formatDifference({ streamName, field, expected, actual }: Difference): string {
  return `  ${streamName}  ${field}: expected ${show(expected)}, actual ${show(actual)}`;
}

function show(value: unknown): string {
  return (
    JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'bigint' ? inner.toString() : inner,
    ) ?? 'undefined'
  );
}

runCli(main);
