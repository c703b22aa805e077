import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
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
import { WorkQueue, emptyBacklog } from '../work-queue.port';
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
  it('gives each call sent while its thread is busy its own outcome, as if made one by one', async () => {
    const path = newDatabasePath();
    const store = open(path);
    const check = (transactionId: string, dueAt: number) => ({
      transactionId,
      kind: 'check' as const,
      dueAt,
      payload: {},
    });
    await store.commit(
      { schedule: [check('tx-1', 1000)], cancel: [] },
      { firstPosition: 1n, checkpoint: 1n },
    );
    // Another process holds the write lock: the calls below queue on the thread, which writes
    // those that reach it together in one transaction.
    const otherProcess = new Database(path);
    otherProcess.exec('BEGIN IMMEDIATE');
    const calls = [
      store.ping(),
      // Fails after writing its first item: that item must not stay.
      store.commit(
        { schedule: [check('tx-2', 1000), check('tx-3', 1000.5)], cancel: [] },
        { firstPosition: 2n, checkpoint: 2n },
      ),
      store.claimDue('A', 2000, 60_000, 10),
      store.commit(
        { schedule: [check('tx-4', 3000)], cancel: [] },
        { firstPosition: 2n, checkpoint: 2n },
      ),
    ];
    otherProcess.exec('ROLLBACK');
    otherProcess.close();
    const [, failed, claimed, committed] = await Promise.allSettled(calls);

    expect(failed).toMatchObject({ status: 'rejected', reason: expect.any(RangeError) });
    expect(claimed).toMatchObject({ status: 'fulfilled', value: [{ transactionId: 'tx-1' }] });
    expect(committed).toEqual({ status: 'fulfilled', value: undefined });
    expect(await store.pending('tx-2')).toEqual([]);
    expect(await store.pending('tx-4')).toHaveLength(1);
    expect(await store.checkpoint()).toBe(2n);
  });

  describe('when its thread dies', () => {
    /** The threads Node starts while `action` runs (Node announces each on this channel). */
    async function threadsStartedBy(action: () => Promise<unknown>): Promise<Worker[]> {
      const started: Worker[] = [];
      const onStart = (message: unknown) => started.push((message as { worker: Worker }).worker);
      subscribe('worker_threads', onStart);
      try {
        await action();
      } finally {
        unsubscribe('worker_threads', onStart);
      }
      return started;
    }

    it('fails the calls in flight, writes none of them, and answers the next call from a new thread', async () => {
      const path = newDatabasePath();
      const store = open(path);
      const [thread] = await threadsStartedBy(() => store.ping());
      // Another process holds the write lock: the thread waits for it with both calls in flight.
      const otherProcess = new Database(path);
      otherProcess.exec('BEGIN IMMEDIATE');
      const commit = store.commit(
        {
          schedule: [{ transactionId: 'tx-1', kind: 'check', dueAt: 1000, payload: {} }],
          cancel: [],
        },
        { firstPosition: 1n, checkpoint: 1n },
      );
      const claim = store.claimDue('A', 2000, 60_000, 10);
      const stopped =
        /sqlite-work-store thread stopped \(.*\); the outcome of its unfinished writes is unknown/;
      const bothFail = Promise.all([
        expect(commit).rejects.toThrow(stopped),
        expect(claim).rejects.toThrow(stopped),
      ]);

      const exited = thread.terminate();
      // The thread gets the lock it was waiting for only to be stopped, mid-transaction if it had
      // begun one.
      otherProcess.exec('ROLLBACK');
      otherProcess.close();
      await exited;

      await bothFail;
      let checkpoint: bigint | null = 0n;
      const restarted = await threadsStartedBy(async () => (checkpoint = await store.checkpoint()));
      expect(restarted).toHaveLength(1);
      expect(checkpoint).toBeNull();
      expect(await store.backlog(2000)).toEqual(emptyBacklog());
      // Nothing holds the write lock: the same commit goes through on the new thread.
      await store.commit(
        {
          schedule: [{ transactionId: 'tx-1', kind: 'check', dueAt: 1000, payload: {} }],
          cancel: [],
        },
        { firstPosition: 1n, checkpoint: 1n },
      );
      expect(await store.pending('tx-1')).toHaveLength(1);
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
