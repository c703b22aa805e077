import { Test } from '@nestjs/testing';
import { MongoClient } from 'mongodb';
import {
  describeWithContainers,
  StartedMongo,
  startMongo,
  CONTAINER_START_MS,
  connectMongo,
} from '../../../test/support/containers';
import { AppConfig } from '../../config/app-config';
import { CoreModule } from '../../config/core.module';
import { SystemClock } from '../../shared/clock';
import { MathRandom } from '../../shared/random';
import { describeRateLimitCountersContract } from '../rate-limit-counters.contract';
import { RateLimitCounters } from '../rate-limit-counters.port';
import { MongoRateLimitCounters, RATE_LIMIT_COLLECTION } from './mongodb-rate-limit-counters';
import { MongoRateLimitCountersModule } from './mongodb-rate-limit-counters.module';

describeWithContainers('MongoRateLimitCounters on a MongoDB replica set', () => {
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

  describeRateLimitCountersContract('MongoDB', {
    async openEmpty() {
      databaseCount += 1;
      const name = `rate_limits_${databaseCount}`;
      // Every other handle has its own client, as another service instance would.
      const otherClients: MongoClient[] = [];
      return {
        counters: await MongoRateLimitCounters.open(client.db(name)),
        openAnotherHandle: async () => {
          const other = await connectMongo(mongo.url);
          otherClients.push(other);
          return MongoRateLimitCounters.open(other.db(name));
        },
        dispose: async () => {
          await Promise.all(otherClients.map((other) => other.close()));
          await client.db(name).dropDatabase();
        },
      };
    },
  });

  describe('MongoRateLimitCountersModule', () => {
    it('opens the counters on the configured database with a TTL index on the window end', async () => {
      const database = 'rate_limits_module';
      const config = AppConfig.fromEnvironment({
        READ_MODEL: 'mongodb',
        MONGODB_URL: mongo.url,
        MONGODB_DATABASE: database,
      });
      const moduleRef = await Test.createTestingModule({
        imports: [
          CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
          MongoRateLimitCountersModule,
        ],
      }).compile();
      const counters = moduleRef.get(RateLimitCounters);
      const windowStart = 1_900_000_020_000;

      await counters.add(windowStart, 60_000, [{ caller: 'principal:alice', count: 2 }], 100);
      const collection = client.db(database).collection(RATE_LIMIT_COLLECTION);
      expect(await collection.findOne({ caller: 'principal:alice' })).toMatchObject({
        windowStart,
        count: 2,
        expiresAt: new Date(windowStart + 60_000),
      });
      const indexes = await collection.indexes();
      expect(indexes.find((index) => index.name === 'counts_expiry')).toMatchObject({
        key: { expiresAt: 1 },
        expireAfterSeconds: 0,
      });

      await moduleRef.close();
      await client.db(database).dropDatabase();
    });
  });
});
