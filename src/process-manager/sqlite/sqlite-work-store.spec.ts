import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Test } from '@nestjs/testing';
import Database from 'better-sqlite3';
import { AppConfig } from '../../config/app-config';
import { CoreModule } from '../../config/core.module';
import { SystemClock } from '../../shared/clock';
import { MathRandom } from '../../shared/random';
import { describeWorkStoreContract } from '../work-store.contract';
import { WorkStore } from '../work-store.port';
import { SqliteWorkStore } from './sqlite-work-store';
import { SqliteWorkStoreModule } from './sqlite-work-store.module';

let tempRoot: string;

beforeAll(() => {
  tempRoot = mkdtempSync(join(tmpdir(), 'work-store-'));
});

afterAll(() => {
  rmSync(tempRoot, { recursive: true, force: true });
});

function newDatabasePath(): string {
  return join(mkdtempSync(join(tempRoot, 'store-')), 'work.sqlite');
}

describeWorkStoreContract('SQLite', {
  async openEmpty() {
    const path = newDatabasePath();
    return {
      store: new SqliteWorkStore({ path }),
      openAnotherHandle: async () => new SqliteWorkStore({ path }),
      dispose: async () => rmSync(dirname(path), { recursive: true, force: true }),
    };
  },
});

/** What each thread does, on its own connection to the same file, once both are ready. */
type Race = 'claim' | 'takeStatusCheck';

/**
 * A thread stands in for another process: better-sqlite3 is synchronous, so calls from one thread
 * never overlap and only separate threads can race for the file's write lock. The thread loads the
 * adapter's TypeScript source through the TypeScript compiler, as Jest does.
 */
const RACER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { readFileSync } = require('node:fs');
  const ts = require(workerData.typescript);
  require.extensions['.ts'] = (module, filename) => {
    const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    module._compile(outputText, filename);
  };
  const { SqliteWorkStore } = require(workerData.adapter);
  const store = new SqliteWorkStore({ path: workerData.path });
  const now = 1000;
  const attempts = {
    claim: async () => (await store.claimDue(workerData.name, now, 60000, 2))
      .map((work) => work.transactionId),
    takeStatusCheck: async () =>
      (await store.takeStatusCheck(now, { ratePerSecond: 1, minRatePerSecond: 1 })).granted
        ? ['granted'] : [],
  };
  parentPort.once('message', async () => {
    const won = [];
    for (let i = 0; i < workerData.attempts; i += 1) {
      won.push(...(await attempts[workerData.race]()));
    }
    await store.close();
    parentPort.postMessage(won);
  });
  parentPort.postMessage('ready');
`;

/** Runs `race` in two threads at once and returns what each one won. */
async function raceInTwoThreads(path: string, race: Race, attempts: number): Promise<string[][]> {
  const racers = ['thread-1', 'thread-2'].map(
    (name) =>
      new Worker(RACER_SOURCE, {
        eval: true,
        workerData: {
          typescript: require.resolve('typescript'),
          adapter: require.resolve('./sqlite-work-store.ts'),
          path,
          name,
          race,
          attempts,
        },
      }),
  );
  try {
    await Promise.all(racers.map((racer) => once(racer, 'message')));
    const results = racers.map(async (racer) => (await once(racer, 'message')) as [string[]]);
    for (const racer of racers) racer.postMessage('go');
    return (await Promise.all(results)).map(([won]) => won);
  } finally {
    await Promise.all(racers.map((racer) => racer.terminate()));
  }
}

describe('SqliteWorkStore', () => {
  let openStores: SqliteWorkStore[] = [];

  function open(path: string): SqliteWorkStore {
    const store = new SqliteWorkStore({ path });
    openStores.push(store);
    return store;
  }

  afterEach(async () => {
    await Promise.all(openStores.map((store) => store.close()));
    openStores = [];
  });

  it('leaves the file in WAL mode with every table in place', () => {
    const path = newDatabasePath();
    open(path);
    const inspector = new Database(path, { readonly: true });
    try {
      expect(inspector.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = inspector
        .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(['budget', 'leases', 'pm_checkpoint', 'work', 'work_version']);
    } finally {
      inspector.close();
    }
  });

  describe('between processes racing for the write lock', () => {
    it('hands every due item to exactly one of them', async () => {
      const path = newDatabasePath();
      const itemCount = 60;
      await open(path).commit(
        {
          schedule: Array.from({ length: itemCount }, (_, n) => ({
            transactionId: `tx-${n}`,
            kind: 'check' as const,
            dueAt: n,
            payload: {},
          })),
          cancel: [],
        },
        { firstPosition: 1n, checkpoint: 1n },
      );

      const won = await raceInTwoThreads(path, 'claim', itemCount);

      const claimed = won.flat();
      expect(claimed).toHaveLength(itemCount);
      expect(new Set(claimed).size).toBe(itemCount);
    });

    it('grants one status check', async () => {
      const checks = await raceInTwoThreads(newDatabasePath(), 'takeStatusCheck', 50);

      expect(checks.flat()).toEqual(['granted']);
    });
  });
});

describe('SqliteWorkStoreModule', () => {
  it('opens work.sqlite in a new data folder and closes it on shutdown', async () => {
    const dataDir = join(tempRoot, 'module', 'data');
    const config = AppConfig.fromEnvironment({ DATA_DIR: dataDir });
    const moduleRef = await Test.createTestingModule({
      imports: [
        CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
        SqliteWorkStoreModule,
      ],
    }).compile();
    const workStore = moduleRef.get(WorkStore);

    await workStore.ping();
    expect(existsSync(join(dataDir, 'work.sqlite'))).toBe(true);

    await moduleRef.close();
    await expect(workStore.ping()).rejects.toThrow();
  });
});
