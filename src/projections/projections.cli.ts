import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { progressReporter } from '../audit/progress';
import { AppConfig } from '../config/app-config';
import { UsageError, positiveIntegerFlag, runCli } from '../cli/cli';
import { CoreModule } from '../config/core.module';
import { EventStoreModule } from '../event-store/event-store.module';
import { EventStore } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SqliteWorkStore } from '../process-manager/sqlite/sqlite-work-store';
import { WorkStoreModule } from '../process-manager/work-store.module';
import { WorkStore } from '../process-manager/work-store.port';
import { ReadModelModule } from '../read-model/read-model.module';
import { ReadModel } from '../read-model/read-model.port';
import { SqliteReadModel } from '../read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../shared/clock';
import { MathRandom } from '../shared/random';
import { STORE_FILES } from '../sqlite/store-files';
import { measureProjectionLag } from './projection-lag';
import { SUMMARY_PROJECTION, rebuildTransactionSummaries } from './summary-rebuild';

const PROCESS_MANAGER = 'process-manager';

const USAGE = `Usage: npm run projections -- status
       npm run projections -- rebuild ${SUMMARY_PROJECTION} [--batch-events <n>]

status   each projection's checkpoint and lag behind $all (events on the embedded store, bytes
         of log on EventStoreDB, and the age in seconds of the oldest event it has not applied
         yet).
rebuild  builds a fresh copy of the projection from position 0 beside the live one, catches up
         with the head, then swaps it in atomically. Safe while the service runs: queries and
         the live projection carry on. --batch-events: events per commit (default 10000).
         ${PROCESS_MANAGER} cannot be rebuilt: replaying it would schedule provider calls again.

Reads the configuration like the service: DATA_DIR on the embedded default, or EventStoreDB and
MongoDB (EVENT_STORE=eventstoredb, READ_MODEL=mongodb and their connection settings).`;

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
  if (command === 'status' && rest.length === 0) return status(await openStores(config, 'status'));
  if (command === 'rebuild' && rest.length === 1) {
    if (rest[0] !== SUMMARY_PROJECTION) {
      throw new UsageError(`"${rest[0]}" cannot be rebuilt; only ${SUMMARY_PROJECTION} can`);
    }
    const batch = positiveIntegerFlag(values['batch-events'], '--batch-events');
    return rebuild(await openStores(config, 'rebuild'), batch);
  }
  throw new UsageError(USAGE);
}

interface Stores {
  eventStore: EventStore;
  readModel: ReadModel;
  /** Null when the process manager never ran on these stores. */
  workStore: WorkStore | null;
  close: () => Promise<void>;
}

/** The service's store modules only: no HTTP, no projections, no process manager. */
@Module({})
class StoresModule {}

/**
 * The embedded files are opened directly (a missing one is an error, not a new empty store;
 * `status` opens the read model read-only). The servers are reached through the same adapter
 * modules the service uses.
 */
async function openStores(config: AppConfig, use: 'status' | 'rebuild'): Promise<Stores> {
  if (config.eventStore === 'sqlite' && config.readModel === 'sqlite') {
    const eventStore = openEventStore(config);
    const readModel = new SqliteReadModel({
      path: existingFile(config, STORE_FILES.readModel),
      readOnly: use === 'status',
    });
    const workStorePath = join(config.dataDir, STORE_FILES.work);
    const workStore =
      use === 'status' && existsSync(workStorePath)
        ? new SqliteWorkStore({ path: workStorePath })
        : null;
    return {
      eventStore,
      readModel,
      workStore,
      close: async () => {
        await eventStore.close();
        await readModel.close();
        await workStore?.close();
      },
    };
  }
  const context = await NestFactory.createApplicationContext(
    {
      module: StoresModule,
      imports: [
        CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
        EventStoreModule.forRoot(config),
        ReadModelModule.forRoot(config),
        WorkStoreModule.forRoot(config),
      ],
    },
    // Errors reach main(), which prints them once and sets the exit code.
    { logger: ['warn'], abortOnError: false },
  );
  return {
    eventStore: context.get(EventStore),
    readModel: context.get(ReadModel),
    workStore: context.get(WorkStore),
    close: () => context.close(),
  };
}

/** A store file of DATA_DIR; opening a missing one would create an empty store. */
function existingFile(config: AppConfig, name: string): string {
  const path = join(config.dataDir, name);
  if (!existsSync(path)) throw new UsageError(`${path} does not exist: is DATA_DIR right?`);
  return path;
}

function openEventStore(config: AppConfig): SqliteEventStore {
  return new SqliteEventStore({
    path: existingFile(config, STORE_FILES.events),
    clock: new SystemClock(),
  });
}

async function status({ eventStore, readModel, workStore, close }: Stores): Promise<number> {
  try {
    const head = await eventStore.headPosition();
    const checkpoints: [string, bigint | null][] = [
      [SUMMARY_PROJECTION, await readModel.checkpoint(SUMMARY_PROJECTION)],
      [PROCESS_MANAGER, workStore ? await workStore.checkpoint() : null],
    ];
    const rows = await Promise.all(
      checkpoints.map(async ([name, checkpoint]) => {
        const lag = await measureProjectionLag(eventStore, checkpoint ?? 0n, head, new Date());
        return [
          name,
          checkpoint === null ? 'never ran' : checkpoint.toString(),
          String(lag.behind),
          lag.seconds.toFixed(1),
        ];
      }),
    );
    const lagHeader = eventStore.positionUnit === 'events' ? 'lag events' : 'lag log bytes';
    console.log(`head of $all: ${head}`);
    for (const line of table([['projection', 'checkpoint', lagHeader, 'lag s'], ...rows])) {
      console.log(line);
    }
    return 0;
  } finally {
    await close();
  }
}

async function rebuild(
  { eventStore, readModel, close }: Stores,
  batch: number | undefined,
): Promise<number> {
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
    await close();
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

runCli(main);
