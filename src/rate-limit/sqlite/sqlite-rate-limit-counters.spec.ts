import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import Database from 'better-sqlite3';
import { AppConfig } from '../../config/app-config';
import { CoreModule } from '../../config/core.module';
import { SystemClock } from '../../shared/clock';
import { MathRandom } from '../../shared/random';
import { describeRateLimitCountersContract } from '../rate-limit-counters.contract';
import { RateLimitCounters } from '../rate-limit-counters.port';
import { SqliteRateLimitCounters } from './sqlite-rate-limit-counters';
import { SqliteRateLimitCountersModule } from './sqlite-rate-limit-counters.module';

let tempRoot: string;

beforeAll(() => {
  tempRoot = mkdtempSync(join(tmpdir(), 'rate-limit-counters-'));
});

afterAll(() => {
  rmSync(tempRoot, { recursive: true, force: true });
});

function newDatabasePath(): string {
  return join(mkdtempSync(join(tempRoot, 'store-')), 'rate-limits.sqlite');
}

describeRateLimitCountersContract('SQLite', {
  async openEmpty() {
    const path = newDatabasePath();
    const handles = [new SqliteRateLimitCounters(path)];
    return {
      counters: handles[0],
      openAnotherHandle: async () => {
        handles.push(new SqliteRateLimitCounters(path));
        return handles.at(-1)!;
      },
      dispose: async () => handles.forEach((handle) => handle.close()),
    };
  },
});

describe('SqliteRateLimitCounters', () => {
  const WINDOW_MS = 1_000;
  const W0 = 1_900_000_000_000;

  it('forgets the windows that have ended, so the table holds about one window', async () => {
    const path = newDatabasePath();
    const counters = new SqliteRateLimitCounters(path);
    const rows = () => {
      const reader = new Database(path, { readonly: true });
      const all = reader
        .prepare('SELECT window_start AS windowStart, caller FROM rate_limit_counts')
        .all();
      reader.close();
      return all;
    };
    for (let window = 0; window < 5; window++) {
      const deltas = Array.from({ length: 10 }, (_, i) => ({ caller: `c${i}`, count: 1 }));
      await counters.add(W0 + window * WINDOW_MS, WINDOW_MS, deltas, 100);
    }
    const left = rows();
    expect(left).toHaveLength(10);
    expect(left).toEqual(
      expect.arrayContaining([{ windowStart: W0 + 4 * WINDOW_MS, caller: 'c0' }]),
    );
    counters.close();
  });

  it('fails a sync at once, without waiting for long, while another process holds the file', async () => {
    const path = newDatabasePath();
    const counters = new SqliteRateLimitCounters(path);
    const otherProcess = new Database(path);
    otherProcess.exec('BEGIN IMMEDIATE');
    await expect(
      counters.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 1 }], 100),
    ).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    otherProcess.exec('ROLLBACK');
    expect(
      await counters.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 1 }], 100),
    ).toEqual(new Map([['principal:alice', 1]]));
    otherProcess.close();
    counters.close();
  });

  it('is rate-limits.sqlite in the data folder, made if missing, and closed on shutdown', async () => {
    const dataDir = join(tempRoot, 'module', 'data');
    const config = AppConfig.fromEnvironment({ DATA_DIR: dataDir });
    const moduleRef = await Test.createTestingModule({
      imports: [
        CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
        SqliteRateLimitCountersModule,
      ],
    }).compile();
    const counters = moduleRef.get(RateLimitCounters);
    await counters.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 1 }], 100);
    expect(existsSync(join(dataDir, 'rate-limits.sqlite'))).toBe(true);

    await moduleRef.close();
    await expect(counters.add(W0, WINDOW_MS, [], 100)).rejects.toThrow(/not open/);
  });
});
