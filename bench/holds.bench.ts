import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AccountStreams } from '../src/accounts/account-streams';
import type { AppendResult, ExpectedRevision, NewEvent } from '../src/event-store/event-store.port';
import { WrongExpectedRevisionError } from '../src/event-store/event-store.port';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store';
import { SystemClock } from '../src/shared/clock';
import { STORE_FILES } from '../src/sqlite/store-files';
import { CryptoIds } from '../src/shared/ids';
import { MathRandom } from '../src/shared/random';

const USAGE = `Usage: npm run bench:holds -- [options]

One process, the embedded SQLite event store in a temp dir, AccountStreams with real appends.
Rounds of --concurrency concurrent PlaceHold commands, for --seconds each: all on ONE funded
account (a hot customer), then each on its own account; prints holds/s for both, their ratio,
and the appends refused for a stale revision (each one a decision taken again).

  --concurrency <n>   holds in flight per round (default 50)
  --seconds <s>       how long each case runs (default 5)
`;

const CONTEXT = { correlationId: 'bench', causationId: 'bench', actor: 'bench' };

/** The store, counting the appends refused for a stale expected revision. */
class CountingEventStore extends SqliteEventStore {
  conflicts = 0;

  override async appendToStream(
    streamName: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    try {
      return await super.appendToStream(streamName, events, options);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) this.conflicts += 1;
      throw error;
    }
  }
}

interface CaseResult {
  holds: number;
  seconds: number;
  conflicts: number;
}

async function runCase(
  store: CountingEventStore,
  owners: (slot: number) => string,
  concurrency: number,
  seconds: number,
): Promise<CaseResult> {
  const streams = new AccountStreams(store, new MathRandom(), new CryptoIds());
  const clock = new SystemClock();
  const at = clock.now().toISOString();
  const expiresAt = new Date(clock.now().getTime() + 15 * 60_000).toISOString();
  const accounts = new Set(Array.from({ length: concurrency }, (_, slot) => owners(slot)));
  for (const owner of accounts) {
    await streams.handle(
      {
        type: 'Deposit',
        owner,
        currency: 'KES',
        depositId: `fund-${owner}`,
        amount: 1_000_000_000_000,
        reference: 'bench',
        at,
      },
      CONTEXT,
    );
  }
  const conflictsBefore = store.conflicts;
  let holds = 0;
  let round = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const writes = await Promise.all(
      Array.from({ length: concurrency }, (_, slot) =>
        streams.handle(
          {
            type: 'PlaceHold',
            owner: owners(slot),
            currency: 'KES',
            holdId: `${owners(slot)}-${round}-${slot}`,
            amount: 100,
            expiresAt,
            at,
          },
          CONTEXT,
        ),
      ),
    );
    for (const write of writes) {
      if (write.events.at(-1)?.type !== 'FundsHeld') throw new Error('a bench hold was refused');
    }
    holds += writes.length;
    round += 1;
  }
  return {
    holds,
    seconds: (performance.now() - start) / 1000,
    conflicts: store.conflicts - conflictsBefore,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '5' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const concurrency = Number(values.concurrency);
  const seconds = Number(values.seconds);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || !(seconds > 0)) {
    console.error(USAGE);
    return 2;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'holds-bench-'));
  const store = new CountingEventStore({
    path: join(dataDir, STORE_FILES.events),
    clock: new SystemClock(),
  });
  try {
    const report = (label: string, result: CaseResult) => {
      const rate = result.holds / result.seconds;
      console.log(
        `${label}: ${result.holds} holds in ${result.seconds.toFixed(2)} s, ` +
          `${Math.round(rate).toLocaleString('en')} holds/s, ${result.conflicts} conflicts (decisions taken again)`,
      );
      return rate;
    };
    const hot = report(
      `${concurrency} concurrent holds on ONE account`,
      await runCase(store, () => 'hot-customer', concurrency, seconds),
    );
    const spread = report(
      `${concurrency} concurrent holds on ${concurrency} accounts`,
      await runCase(store, (slot) => `customer-${slot}`, concurrency, seconds),
    );
    console.log(
      `ratio: one account runs at ${((100 * hot) / spread).toFixed(1)}% of spread holds/s`,
    );
    return 0;
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
