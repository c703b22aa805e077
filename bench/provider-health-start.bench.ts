/**
 * The provider-health projection's start-up on a store with many events, most of them older than
 * its windows: the replay bounded by `positionBefore` (what the service does) against a replay of
 * all of `$all` (what it did), in one run on the same store. Run with
 * `npm run bench:provider-health-start -- --help`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AppConfig } from '../src/config/app-config';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store';
import { ProjectionRunner, type Projection } from '../src/projections/projection-runner';
import { ProviderHealthProjection } from '../src/provider-health/provider-health.projection';
import { Clock } from '../src/shared/clock';
import { generate } from './support/generated-store';

const USAGE = `Usage: npm run bench:provider-health-start -- [options]

  --old <n>     events recorded two days ago, before the windows      (default 500000)
  --recent <n>  events recorded ten minutes ago, inside the windows   (default 20000)`;

const DAY_MS = 86_400_000;

/** Set by hand: the events' recordedAt, then the start's "now". */
class BenchClock extends Clock {
  constructor(public at: number) {
    super();
  }
  now(): Date {
    return new Date(this.at);
  }
}

/** Starts a runner on `projection` and resolves once it has applied up to the head. */
async function timedStart(
  store: SqliteEventStore,
  projection: Projection,
): Promise<{ seconds: number; startedAfter: bigint }> {
  const began = performance.now();
  const runner = new ProjectionRunner(store, projection);
  await runner.start();
  const head = await store.headPosition();
  if (!(await runner.waitFor(head, 600_000))) throw new Error('the replay did not finish');
  const seconds = (performance.now() - began) / 1000;
  await runner.stop();
  return { seconds, startedAfter: (await projection.checkpoint()) ?? 0n };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      old: { type: 'string', default: '500000' },
      recent: { type: 'string', default: '20000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-provider-health-start-'));
  const now = Date.now();
  const clock = new BenchClock(now - 2 * DAY_MS);
  const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite'), clock });
  try {
    await generate(store, Number(values.old), 5000);
    clock.at = now - 600_000;
    await generate(store, Number(values.recent), 5000, 10_000_000);
    clock.at = now;
    const config = AppConfig.fromEnvironment({ DATA_DIR: dataDir });

    const everything = new ProviderHealthProjection(config, store, clock);
    const whole = await timedStart(store, {
      name: 'provider-health (all of $all)',
      checkpoint: () => Promise.resolve(null),
      apply: (events) => everything.apply(events),
    });
    const bounded = new ProviderHealthProjection(config, store, clock);
    const recent = await timedStart(store, bounded);
    const head = await store.headPosition();
    console.log(
      JSON.stringify(
        {
          events: Number(head),
          wholeReplay: { events: Number(head), seconds: round(whole.seconds) },
          boundedReplay: {
            events: Number(head - recent.startedAfter),
            seconds: round(recent.seconds),
          },
          speedup: round(whole.seconds / recent.seconds),
          sameObservations: everything.observations().length === bounded.observations().length,
        },
        null,
        2,
      ),
    );
    return 0;
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (value: number) => Math.round(value * 100) / 100;

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
