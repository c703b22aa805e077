import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Test } from '@nestjs/testing';
import Database from 'better-sqlite3';
import { raceInTwoThreads } from '../../../test/support/sqlite-racers';
import type { OpenedStore } from '../../../test/support/store-handles';
import { AppConfig } from '../../config/app-config';
import { CoreModule } from '../../config/core.module';
import { SqliteStatusCheckBudget } from '../../provider/status-checks/sqlite/sqlite-status-check-budget';
import { SystemClock } from '../../shared/clock';
import { MathRandom } from '../../shared/random';
import { CheckpointedSchedule } from '../checkpointed-schedule.port';
import { describeCheckpointedScheduleContract } from '../checkpointed-schedule.contract';
import { describeNamedLeasesContract } from '../named-leases.contract';
import { NamedLeases } from '../named-leases.port';
import { describeWorkQueueContract } from '../work-queue.contract';
import { WorkQueue } from '../work-queue.port';
import { SqliteNamedLeases } from './sqlite-named-leases';
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

const harness = {
  async openEmpty(): Promise<OpenedStore<SqliteWorkStore>> {
    const path = newDatabasePath();
    return {
      store: new SqliteWorkStore({ path }),
      openAnotherHandle: async () => new SqliteWorkStore({ path }),
      dispose: async () => rmSync(dirname(path), { recursive: true, force: true }),
    };
  },
};

describeCheckpointedScheduleContract('SQLite', harness);
describeWorkQueueContract('SQLite', harness);
describeNamedLeasesContract('SQLite', {
  async openEmpty() {
    const path = newDatabasePath();
    return {
      store: new SqliteNamedLeases({ path }),
      openAnotherHandle: async () => new SqliteNamedLeases({ path }),
      dispose: async () => rmSync(dirname(path), { recursive: true, force: true }),
    };
  },
});

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

  it('leaves the file in WAL mode with every table in place, those of the adapters beside it too', async () => {
    const path = newDatabasePath();
    open(path);
    await new SqliteNamedLeases({ path }).close();
    await new SqliteStatusCheckBudget({ path }).close();
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

      const won = await raceInTwoThreads({
        adapter: require.resolve('./sqlite-work-store.ts'),
        className: 'SqliteWorkStore',
        path,
        attempt:
          'return (await store.claimDue(name, 1000, 60000, 2)).map((work) => work.transactionId);',
        attempts: itemCount,
      });

      const claimed = won.flat();
      expect(claimed).toHaveLength(itemCount);
      expect(new Set(claimed).size).toBe(itemCount);
    });
  });
});

describe('SqliteWorkStoreModule', () => {
  it('opens work.sqlite in a new data folder behind the three ports and closes it on shutdown', async () => {
    const dataDir = join(tempRoot, 'module', 'data');
    const config = AppConfig.fromEnvironment({ DATA_DIR: dataDir });
    const moduleRef = await Test.createTestingModule({
      imports: [
        CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
        SqliteWorkStoreModule,
      ],
    }).compile();
    const workStore = moduleRef.get(SqliteWorkStore);
    expect(moduleRef.get(WorkQueue)).toBe(workStore);
    expect(moduleRef.get(CheckpointedSchedule)).toBe(workStore);
    const leases = moduleRef.get(SqliteNamedLeases);
    expect(moduleRef.get(NamedLeases)).toBe(leases);

    await workStore.ping();
    await leases.ping();
    expect(existsSync(join(dataDir, 'work.sqlite'))).toBe(true);

    await moduleRef.close();
    await expect(workStore.ping()).rejects.toThrow();
    await expect(leases.ping()).rejects.toThrow();
  });
});
