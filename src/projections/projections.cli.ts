import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { progressReporter } from '../audit/progress';
import { AppConfig, ConfigError } from '../config/app-config';
import type { EventStore } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SqliteWorkStore } from '../process-manager/sqlite/sqlite-work-store';
import { SqliteReadModel } from '../read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../shared/clock';
import { projectionLag } from './projection-lag';
import { SUMMARY_PROJECTION, rebuildTransactionSummaries } from './summary-rebuild';

const PROCESS_MANAGER = 'process-manager';

const USAGE = `Usage: npm run projections -- status
       npm run projections -- rebuild ${SUMMARY_PROJECTION} [--batch-events <n>]

status   each projection's checkpoint and lag behind $all (events, and the age in seconds of
         the oldest event it has not applied yet).
rebuild  builds a fresh copy of the projection from position 0 beside the live one, catches up
         with the head, then swaps it in atomically. Safe while the service runs: queries and
         the live projection carry on. --batch-events: events per commit (default 10000).
         ${PROCESS_MANAGER} cannot be rebuilt: replaying it would schedule provider calls again.

Reads DATA_DIR like the service (embedded default only).`;

/** Thrown for a mistake of the caller: printed without a stack, exit code 2. */
class UsageError extends Error {}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'batch-events': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  const config = AppConfig.fromEnvironment(process.env);
  if (config.eventStore !== 'sqlite' || config.readModel !== 'sqlite') {
    throw new UsageError('this CLI works on the embedded default (EVENT_STORE=READ_MODEL=sqlite)');
  }
  if (command === 'status' && rest.length === 0) return status(config);
  if (command === 'rebuild' && rest.length === 1) {
    if (rest[0] !== SUMMARY_PROJECTION) {
      throw new UsageError(`"${rest[0]}" cannot be rebuilt; only ${SUMMARY_PROJECTION} can`);
    }
    return rebuild(config, batchEvents(values['batch-events']));
  }
  throw new UsageError(USAGE);
}

/** A store file of DATA_DIR; opening a missing one would create an empty store. */
function existingFile(config: AppConfig, name: string): string {
  const path = join(config.dataDir, name);
  if (!existsSync(path)) throw new UsageError(`${path} does not exist: is DATA_DIR right?`);
  return path;
}

function openEventStore(config: AppConfig): SqliteEventStore {
  return new SqliteEventStore({
    path: existingFile(config, 'events.sqlite'),
    clock: new SystemClock(),
  });
}

async function status(config: AppConfig): Promise<number> {
  const eventStore = openEventStore(config);
  const readModel = new SqliteReadModel({
    path: existingFile(config, 'read-model.sqlite'),
    readOnly: true,
  });
  const workStorePath = join(config.dataDir, 'work.sqlite');
  const workStore = existsSync(workStorePath) ? new SqliteWorkStore({ path: workStorePath }) : null;
  try {
    const head = await eventStore.headPosition();
    const checkpoints: [string, bigint | null][] = [
      [SUMMARY_PROJECTION, await readModel.checkpoint(SUMMARY_PROJECTION)],
      [PROCESS_MANAGER, workStore ? await workStore.checkpoint() : null],
    ];
    const rows = await Promise.all(
      checkpoints.map(async ([name, checkpoint]) => {
        const lag = await lagOf(eventStore, checkpoint ?? 0n, head);
        return [
          name,
          checkpoint === null ? 'never ran' : checkpoint.toString(),
          lag.events.toString(),
          lag.seconds.toFixed(1),
        ];
      }),
    );
    console.log(`head of $all: ${head}`);
    for (const line of table([['projection', 'checkpoint', 'lag events', 'lag s'], ...rows])) {
      console.log(line);
    }
    return 0;
  } finally {
    await eventStore.close();
    await readModel.close();
    await workStore?.close();
  }
}

async function lagOf(eventStore: EventStore, checkpoint: bigint, head: bigint) {
  const [oldest] =
    head > checkpoint ? await eventStore.readAll({ after: checkpoint, maxCount: 1 }) : [];
  return projectionLag(checkpoint, head, oldest?.metadata.recordedAt ?? null, new Date());
}

async function rebuild(config: AppConfig, batch: number | undefined): Promise<number> {
  const eventStore = openEventStore(config);
  const readModel = new SqliteReadModel({ path: existingFile(config, 'read-model.sqlite') });
  // Ctrl-C stops between batches and drops the copy; the live table was never touched.
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort(new Error('interrupted: the rebuild was discarded'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const progress = progressReporter(`rebuild ${SUMMARY_PROJECTION}`);
  try {
    const result = await rebuildTransactionSummaries(eventStore, readModel, {
      batchEvents: batch,
      signal: interrupted.signal,
      onProgress: ({ position, head }) =>
        progress.update('rebuilding', Number(position), Number(head), 'events'),
    });
    progress.stop();
    const seconds = result.elapsedMs / 1000;
    console.log(
      `rebuild ${SUMMARY_PROJECTION}: ${result.events} events in ${seconds.toFixed(2)} s ` +
        `(${Math.round(result.events / Math.max(seconds, 0.001))} events/s); swapped in at ` +
        `position ${result.checkpoint} (attempt ${result.swapAttempts})`,
    );
    return 0;
  } finally {
    progress.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await eventStore.close();
    await readModel.close();
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd(),
  );
}

function batchEvents(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new UsageError('--batch-events must be a positive integer');
  }
  return parsed;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const callersMistake = error instanceof UsageError || error instanceof ConfigError;
    console.error(callersMistake ? error.message : error);
    process.exit(callersMistake ? 2 : 1);
  },
);
