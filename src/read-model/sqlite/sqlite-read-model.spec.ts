import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Test } from '@nestjs/testing';
import Database from 'better-sqlite3';
import { AppConfig } from '../../config/app-config';
import { CoreModule } from '../../config/core.module';
import { SystemClock } from '../../shared/clock';
import { MathRandom } from '../../shared/random';
import { describeReadModelContract } from '../../transactions/read-model.contract';
import { ReadModel, TransactionSummary } from '../../transactions/read-model.port';
import { SqliteReadModel } from './sqlite-read-model';
import { SqliteReadModelModule } from './sqlite-read-model.module';

let tempRoot: string;

beforeAll(() => {
  tempRoot = mkdtempSync(join(tmpdir(), 'read-model-'));
});

afterAll(() => {
  rmSync(tempRoot, { recursive: true, force: true });
});

function newDatabasePath(): string {
  return join(mkdtempSync(join(tempRoot, 'store-')), 'read-model.sqlite');
}

describeReadModelContract('SQLite', {
  async openEmpty() {
    const path = newDatabasePath();
    return {
      readModel: new SqliteReadModel({ path }),
      reopen: async () => new SqliteReadModel({ path }),
    };
  },
});

function pendingSummary(owner: string, clientId: string, position: bigint): TransactionSummary {
  return {
    streamName: `transaction-${owner}-${clientId}`,
    owner,
    clientId,
    status: 'PENDING',
    requestedPosition: position,
    revision: 0n,
    state: { exists: false },
  };
}

describe('SqliteReadModel', () => {
  let openModels: SqliteReadModel[] = [];

  function open(path: string): SqliteReadModel {
    const readModel = new SqliteReadModel({ path });
    openModels.push(readModel);
    return readModel;
  }

  afterEach(async () => {
    await Promise.all(openModels.map((model) => model.close()));
    openModels = [];
  });

  it('leaves the file in WAL mode, so readers in other processes never block the writer', () => {
    const path = newDatabasePath();
    open(path);
    const inspector = new Database(path, { readonly: true });
    try {
      expect(inspector.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      inspector.close();
    }
  });

  it('empties a file written by an older schema and resets its checkpoints, so projections rebuild it', async () => {
    const path = newDatabasePath();
    const old = new Database(path);
    old.exec(`
      CREATE TABLE checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL) STRICT;
      CREATE TABLE transaction_summaries (
        stream_name TEXT PRIMARY KEY, owner TEXT NOT NULL, client_id TEXT NOT NULL,
        status TEXT NOT NULL, requested_position INTEGER NOT NULL, revision INTEGER NOT NULL,
        state TEXT NOT NULL
      ) STRICT;
      INSERT INTO checkpoints VALUES ('transaction-summaries', 42);
      INSERT INTO transaction_summaries VALUES ('transaction-x', 'alice', 'c1', 'PENDING', 1, 0, '{}');
    `);
    old.close();

    const readModel = open(path);

    expect(await readModel.checkpoint('transaction-summaries')).toBeNull();
    expect(await readModel.findSummary('alice', 'c1')).toBeNull();
    await readModel.commit('transaction-summaries', {
      summaries: [pendingSummary('alice', 'c1', 1n)],
      checkpoint: 1n,
    });
    // A second opening of the now current file keeps what was rebuilt.
    const reopened = open(path);
    expect(await reopened.checkpoint('transaction-summaries')).toBe(1n);
  });

  it('opened read-only, reads a current file and refuses (without touching) one of another schema', async () => {
    const path = newDatabasePath();
    const writer = open(path);
    await writer.commit('transaction-summaries', {
      summaries: [pendingSummary('alice', 'c1', 1n)],
      checkpoint: 1n,
    });
    const reader = new SqliteReadModel({ path, readOnly: true });
    expect(await reader.checkpoint('transaction-summaries')).toBe(1n);
    await reader.close();

    const raw = new Database(path);
    raw.pragma('user_version = 1');
    raw.close();
    expect(() => new SqliteReadModel({ path, readOnly: true })).toThrow(/schema 1/);
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT COUNT(*) AS n FROM transaction_summaries').get()).toEqual({
      n: 1,
    });
    check.close();
  });

  it('shows one connection the commits of another on the same file', async () => {
    const path = newDatabasePath();
    const writer = open(path);
    const reader = open(path);

    await writer.commit('p', { summaries: [pendingSummary('alice', 'c1', 1n)], checkpoint: 1n });

    expect(await reader.checkpoint('p')).toBe(1n);
    expect((await reader.findSummary('alice', 'c1'))?.streamName).toBe('transaction-alice-c1');
  });

  it('swaps a rebuild in under another connection whose prepared statements keep working', async () => {
    const path = newDatabasePath();
    const service = open(path);
    const rebuilder = open(path);
    await service.commit('transaction-summaries', {
      summaries: [pendingSummary('alice', 'c1', 1n)],
      checkpoint: 1n,
    });
    // Every statement of the service's connection has run once, so all are prepared.
    expect(await service.findSummary('alice', 'c1')).not.toBeNull();
    expect((await service.listSummaries({ owner: 'alice', limit: 5 })).items).toHaveLength(1);

    await rebuilder.beginRebuild('transaction-summaries');
    await rebuilder.commitRebuild('transaction-summaries', {
      summaries: [pendingSummary('alice', 'c1', 1n), pendingSummary('bob', 'c2', 2n)],
      checkpoint: 2n,
    });
    expect(await rebuilder.finishRebuild('transaction-summaries')).toMatchObject({ swapped: true });

    // The service reads and writes the renamed table through the statements it prepared before.
    expect((await service.findSummary('bob', 'c2'))?.requestedPosition).toBe(2n);
    expect((await service.listSummaries({ owner: 'bob', limit: 5 })).items).toHaveLength(1);
    await service.commit('transaction-summaries', {
      summaries: [pendingSummary('carol', 'c3', 3n)],
      checkpoint: 3n,
    });
    expect(await rebuilder.findSummary('carol', 'c3')).not.toBeNull();
    expect(await service.checkpoint('transaction-summaries')).toBe(3n);
  });

  it('keeps one set of indexes on a swapped-in table across reopening, and drops the old table', async () => {
    const path = newDatabasePath();
    const indexes = () => {
      const inspector = new Database(path, { readonly: true });
      try {
        return inspector
          .prepare<[], { tbl_name: string }>(
            "SELECT tbl_name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL",
          )
          .all()
          .map((row) => row.tbl_name);
      } finally {
        inspector.close();
      }
    };
    const readModel = open(path);
    const before = indexes();
    await readModel.beginRebuild('transaction-summaries');
    await readModel.commitRebuild('transaction-summaries', { summaries: [], checkpoint: 1n });
    await readModel.finishRebuild('transaction-summaries');
    open(path);

    expect(indexes()).toStrictEqual(before);
    expect(new Set(before)).toStrictEqual(new Set(['transaction_summaries']));
  });

  it('rebuilds only the summary projection', async () => {
    const readModel = open(newDatabasePath());
    await expect(readModel.beginRebuild('process-manager')).rejects.toThrow(/no rebuildable/);
  });

  it('waits for a write lock held by another connection instead of failing', async () => {
    const path = newDatabasePath();
    const readModel = open(path);
    const holdMs = 300;
    // A thread stands in for another process: the commit below blocks this thread while it waits.
    const lockHolder = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.driver);
       const db = new Database(workerData.path);
       db.exec('BEGIN IMMEDIATE');
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { driver: require.resolve('better-sqlite3'), path, holdMs } },
    );
    const exited = once(lockHolder, 'exit');
    await once(lockHolder, 'message');

    const started = performance.now();
    await readModel.commit('p', { summaries: [pendingSummary('alice', 'c1', 1n)], checkpoint: 1n });
    const waitedMs = performance.now() - started;

    expect(await exited).toStrictEqual([0]);
    expect(waitedMs).toBeGreaterThan(holdMs / 2);
    expect(await readModel.checkpoint('p')).toBe(1n);
  });
});

describe('SqliteReadModelModule', () => {
  it('opens read-model.sqlite in a new data folder and closes it on shutdown', async () => {
    const dataDir = join(tempRoot, 'module', 'data');
    const config = AppConfig.fromEnvironment({ DATA_DIR: dataDir });
    const moduleRef = await Test.createTestingModule({
      imports: [
        CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
        SqliteReadModelModule,
      ],
    }).compile();
    const readModel = moduleRef.get(ReadModel);

    await readModel.ping();
    expect(existsSync(join(dataDir, 'read-model.sqlite'))).toBe(true);

    await moduleRef.close();
    await expect(readModel.ping()).rejects.toThrow();
  });
});
