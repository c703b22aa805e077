import { parseArgs } from 'node:util';
import { progressReporter } from '../cli/progress';
import { AppConfig } from '../config/app-config';
import { UsageError, positiveIntegerFlag } from '../cli/cli';
import type { EventStore } from '../event-store/event-store.port';
import { measureProjectionLag } from './projection-lag';
import { RebuildableProjection, rebuildProjection } from './projection-rebuild';

/** The stores one command opened: the event store, and those the projections keep. */
export interface OpenedStores {
  eventStore: EventStore;
  close(): Promise<void>;
}

/** A projection as `npm run projections` sees it, registered by the feature that owns it. */
export interface CliProjection<Stores> {
  readonly name: string;
  /** Its checkpoint in `stores`; null when it never ran on them. */
  checkpoint(stores: Stores): Promise<bigint | null>;
  /** How to rebuild it beside the live copy, or why it cannot be rebuilt. */
  rebuild: ((stores: Stores) => RebuildableProjection<unknown>) | { refused: string };
}

/** What the composition root hands the CLI: the projections, and how to open their stores. */
export interface ProjectionsCliSetup<Stores extends OpenedStores> {
  projections: CliProjection<Stores>[];
  openStores(config: AppConfig, use: 'status' | 'rebuild'): Promise<Stores>;
}

function usage<Stores>(projections: CliProjection<Stores>[]): string {
  const rebuildable = projections.filter(({ rebuild }) => typeof rebuild === 'function');
  const refusals = projections.flatMap(({ name, rebuild }) =>
    typeof rebuild === 'function'
      ? []
      : [`\n         ${name} cannot be rebuilt: ${rebuild.refused}.`],
  );
  return `Usage: npm run projections -- status
       npm run projections -- rebuild ${rebuildable.map(({ name }) => name).join('|')} [--batch-events <n>]

status   each projection's checkpoint and lag behind $all (events on the embedded store, bytes
         of log on EventStoreDB, and the age in seconds of the oldest event it has not applied
         yet).
rebuild  builds a fresh copy of the projection from position 0 beside the live one, catches up
         with the head, then swaps it in atomically. Safe while the service runs: queries and
         the live projection carry on. --batch-events: events per commit (default 10000).${refusals.join('')}

Reads the configuration like the service: DATA_DIR on the embedded default, or EventStoreDB and
MongoDB (EVENT_STORE=eventstoredb, READ_MODEL=mongodb and their connection settings).`;
}

/** The CLI's main: `status` of every projection, or `rebuild` of one that can be rebuilt. */
export function projectionsCli<Stores extends OpenedStores>(
  setup: ProjectionsCliSetup<Stores>,
): () => Promise<number> {
  return async () => {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        'batch-events': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(usage(setup.projections));
      return 0;
    }
    const [command, ...rest] = positionals;
    const config = AppConfig.fromEnvironment(process.env);
    if (command === 'status' && rest.length === 0) {
      return status(setup.projections, await setup.openStores(config, 'status'));
    }
    if (command === 'rebuild' && rest.length === 1) {
      const projection = setup.projections.find(({ name }) => name === rest[0]);
      const rebuildable = setup.projections.filter(({ rebuild }) => typeof rebuild === 'function');
      if (typeof projection?.rebuild !== 'function') {
        const names = rebuildable.map(({ name }) => name).join(', ');
        throw new UsageError(`"${rest[0]}" cannot be rebuilt; only ${names} can`);
      }
      const batch = positiveIntegerFlag(values['batch-events'], '--batch-events');
      const stores = await setup.openStores(config, 'rebuild');
      return rebuild(projection.rebuild, stores, batch);
    }
    throw new UsageError(usage(setup.projections));
  };
}

async function status<Stores extends OpenedStores>(
  projections: CliProjection<Stores>[],
  stores: Stores,
): Promise<number> {
  const { eventStore } = stores;
  try {
    const head = await eventStore.headPosition();
    const checkpoints: [string, bigint | null][] = [];
    for (const projection of projections) {
      checkpoints.push([projection.name, await projection.checkpoint(stores)]);
    }
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
    await stores.close();
  }
}

async function rebuild<Stores extends OpenedStores>(
  rebuildable: (stores: Stores) => RebuildableProjection<unknown>,
  stores: Stores,
  batch: number | undefined,
): Promise<number> {
  const projection = rebuildable(stores);
  // Ctrl-C stops between batches and drops the copy; the live one was never touched.
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort(new Error('interrupted: the rebuild was discarded'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const progress = progressReporter(`rebuild ${projection.name}`);
  try {
    const result = await rebuildProjection(stores.eventStore, projection, {
      batchEvents: batch,
      signal: interrupted.signal,
      onProgress: ({ position, head }) =>
        progress.update('rebuilding', Number(position), Number(head), 'events'),
    });
    progress.stop();
    const seconds = result.elapsedMs / 1000;
    console.log(
      `rebuild ${projection.name}: ${result.events} events in ${seconds.toFixed(2)} s ` +
        `(${Math.round(result.events / Math.max(seconds, 0.001))} events/s); swapped in at ` +
        `position ${result.checkpoint} (attempt ${result.swapAttempts})`,
    );
    return 0;
  } finally {
    progress.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await stores.close();
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
