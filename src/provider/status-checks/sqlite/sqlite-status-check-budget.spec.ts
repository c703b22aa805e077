import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Test } from '@nestjs/testing';
import { raceInTwoThreads } from '../../../../test/support/sqlite-racers';
import { AppConfig } from '../../../config/app-config';
import { CoreModule } from '../../../config/core.module';
import { SystemClock } from '../../../shared/clock';
import { MathRandom } from '../../../shared/random';
import { describeStatusCheckBudgetContract } from '../status-check-budget.contract';
import { StatusCheckBudget } from '../status-check-budget.port';
import { SqliteStatusCheckBudget } from './sqlite-status-check-budget';
import { SqliteStatusCheckBudgetModule } from './sqlite-status-check-budget.module';

let tempRoot: string;

beforeAll(() => {
  tempRoot = mkdtempSync(join(tmpdir(), 'status-check-budget-'));
});

afterAll(() => {
  rmSync(tempRoot, { recursive: true, force: true });
});

function newDatabasePath(): string {
  return join(mkdtempSync(join(tempRoot, 'store-')), 'work.sqlite');
}

describeStatusCheckBudgetContract('SQLite', {
  async openEmpty() {
    const path = newDatabasePath();
    return {
      store: new SqliteStatusCheckBudget({ path }),
      openAnotherHandle: async () => new SqliteStatusCheckBudget({ path }),
      dispose: async () => rmSync(dirname(path), { recursive: true, force: true }),
    };
  },
});

describe('SqliteStatusCheckBudget between processes racing for the write lock', () => {
  it('grants one status check', async () => {
    const checks = await raceInTwoThreads({
      adapter: require.resolve('./sqlite-status-check-budget.ts'),
      className: 'SqliteStatusCheckBudget',
      path: newDatabasePath(),
      attempt:
        'return (await store.take(1000, { ratePerSecond: 1, minRatePerSecond: 1 })).granted ' +
        "? ['granted'] : [];",
      attempts: 50,
    });

    expect(checks.flat()).toEqual(['granted']);
  });
});

describe('SqliteStatusCheckBudgetModule', () => {
  it('opens work.sqlite in a new data folder and closes it on shutdown', async () => {
    const dataDir = join(tempRoot, 'module', 'data');
    const config = AppConfig.fromEnvironment({ DATA_DIR: dataDir });
    const moduleRef = await Test.createTestingModule({
      imports: [
        CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
        SqliteStatusCheckBudgetModule,
      ],
    }).compile();
    const budget = moduleRef.get(SqliteStatusCheckBudget);
    expect(moduleRef.get(StatusCheckBudget)).toBe(budget);

    await budget.ping();
    expect(existsSync(join(dataDir, 'work.sqlite'))).toBe(true);

    await moduleRef.close();
    await expect(budget.ping()).rejects.toThrow();
  });
});
