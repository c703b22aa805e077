import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { progressReporter } from '../src/cli/progress';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store';
import type { RebuildResult } from '../src/projections/projection-rebuild';
import { SqliteReadModel } from '../src/read-model/sqlite/sqlite-read-model';
import { SystemClock } from '../src/shared/clock';
import { STORE_FILES } from '../src/sqlite/store-files';
import { SUMMARY_PROJECTION } from '../src/transactions/transaction-summary.projection';
import { rebuildTransactionSummaries } from '../src/transactions/transaction-summary.rebuild';
import { generate } from './support/generated-store';

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
