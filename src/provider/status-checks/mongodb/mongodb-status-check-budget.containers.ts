import { Test } from '@nestjs/testing';
import { MongoClient } from 'mongodb';
import {
  describeWithContainers,
  StartedMongo,
  startMongo,
  CONTAINER_START_MS,
  connectMongo,
} from '../../../../test/support/containers';
import { AppConfig } from '../../../config/app-config';
import { CoreModule } from '../../../config/core.module';
import { SystemClock } from '../../../shared/clock';
import { MathRandom } from '../../../shared/random';
import { describeStatusCheckBudgetContract } from '../status-check-budget.contract';
import { StatusCheckBudget } from '../status-check-budget.port';
import { BUDGET_COLLECTION, MongoStatusCheckBudget } from './mongodb-status-check-budget';
import { MongoStatusCheckBudgetModule } from './mongodb-status-check-budget.module';

describeWithContainers('MongoStatusCheckBudget on a MongoDB replica set', () => {
  let mongo: StartedMongo;
  let client: MongoClient;
  let databaseCount = 0;

  beforeAll(async () => {
    mongo = await startMongo();
    client = await connectMongo(mongo.url);
  }, CONTAINER_START_MS);

  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  describeStatusCheckBudgetContract('MongoDB', {
    async openEmpty() {
      databaseCount += 1;
      const name = `status_check_budget_${databaseCount}`;
      // Every other handle has its own client, as another service instance would.
      const otherClients: MongoClient[] = [];
      return {
        store: new MongoStatusCheckBudget(client.db(name)),
        openAnotherHandle: async () => {
          const other = await connectMongo(mongo.url);
          otherClients.push(other);
          return new MongoStatusCheckBudget(other.db(name));
        },
        dispose: async () => {
          await Promise.all(otherClients.map((other) => other.close()));
          await client.db(name).dropDatabase();
        },
      };
    },
  });

  describe('MongoStatusCheckBudgetModule', () => {
    it("keeps the budget in the work store's collection and closes it on shutdown", async () => {
      const database = 'status_check_budget_module';
      const config = AppConfig.fromEnvironment({
        READ_MODEL: 'mongodb',
        MONGODB_URL: mongo.url,
        MONGODB_DATABASE: database,
      });
      const moduleRef = await Test.createTestingModule({
        imports: [
          CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
          MongoStatusCheckBudgetModule,
        ],
      }).compile();
      const budget = moduleRef.get(MongoStatusCheckBudget);
      expect(moduleRef.get(StatusCheckBudget)).toBe(budget);

      await budget.ping();
      await budget.take(1_900_000_000_000, { ratePerSecond: 1, minRatePerSecond: 1 });
      expect(await client.db(database).collection(BUDGET_COLLECTION).countDocuments({})).toBe(1);

      await moduleRef.close();
      await expect(budget.ping()).rejects.toThrow();
      await client.db(database).dropDatabase();
    });
  });
});
