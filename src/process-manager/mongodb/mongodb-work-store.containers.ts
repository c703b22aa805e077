import { Test } from '@nestjs/testing';
import { MongoClient } from 'mongodb';
import {
  describeWithContainers,
  StartedMongo,
  startMongo,
  CONTAINER_START_MS,
  connectMongo,
} from '../../../test/support/containers';
import type { OpenedStore } from '../../../test/support/store-handles';
import { AppConfig } from '../../config/app-config';
import { CoreModule } from '../../config/core.module';
import { SystemClock } from '../../shared/clock';
import { MathRandom } from '../../shared/random';
import { CheckpointedSchedule } from '../checkpointed-schedule.port';
import { describeCheckpointedScheduleContract } from '../checkpointed-schedule.contract';
import { describeNamedLeasesContract } from '../named-leases.contract';
import { NamedLeases } from '../named-leases.port';
import { describeWorkQueueContract } from '../work-queue.contract';
import { WorkQueue } from '../work-queue.port';
import { MongoNamedLeases } from './mongodb-named-leases';
import { MongoWorkStore, WORK_STORE_COLLECTIONS } from './mongodb-work-store';
import { MongoWorkStoreModule } from './mongodb-work-store.module';

describeWithContainers('MongoWorkStore on a MongoDB replica set', () => {
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

  const harness = {
    async openEmpty(): Promise<OpenedStore<MongoWorkStore>> {
      databaseCount += 1;
      const name = `work_store_${databaseCount}`;
      // Every other handle has its own client, as another service instance would.
      const otherClients: MongoClient[] = [];
      return {
        store: await MongoWorkStore.open(client.db(name)),
        openAnotherHandle: async () => {
          const other = await connectMongo(mongo.url);
          otherClients.push(other);
          return MongoWorkStore.open(other.db(name));
        },
        dispose: async () => {
          await Promise.all(otherClients.map((other) => other.close()));
          await client.db(name).dropDatabase();
        },
      };
    },
  };

  describeCheckpointedScheduleContract('MongoDB', harness);
  describeWorkQueueContract('MongoDB', harness);
  describeNamedLeasesContract('MongoDB', {
    async openEmpty() {
      databaseCount += 1;
      const name = `named_leases_${databaseCount}`;
      const otherClients: MongoClient[] = [];
      return {
        store: new MongoNamedLeases(client.db(name)),
        openAnotherHandle: async () => {
          const other = await connectMongo(mongo.url);
          otherClients.push(other);
          return new MongoNamedLeases(other.db(name));
        },
        dispose: async () => {
          await Promise.all(otherClients.map((other) => other.close()));
          await client.db(name).dropDatabase();
        },
      };
    },
  });

  describe('MongoWorkStoreModule', () => {
    it('opens the store on the configured database behind the three ports and closes it on shutdown', async () => {
      const database = 'work_store_module';
      const config = AppConfig.fromEnvironment({
        READ_MODEL: 'mongodb',
        MONGODB_URL: mongo.url,
        MONGODB_DATABASE: database,
      });
      const moduleRef = await Test.createTestingModule({
        imports: [
          CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
          MongoWorkStoreModule,
        ],
      }).compile();
      const workStore = moduleRef.get(MongoWorkStore);
      expect(moduleRef.get(WorkQueue)).toBe(workStore);
      expect(moduleRef.get(CheckpointedSchedule)).toBe(workStore);
      const leases = moduleRef.get(MongoNamedLeases);
      expect(moduleRef.get(NamedLeases)).toBe(leases);

      await workStore.ping();
      const indexes = await client.db(database).collection(WORK_STORE_COLLECTIONS.work).indexes();
      expect(indexes.map((index) => index.name).sort()).toEqual([
        '_id_',
        'work_by_due_at',
        'work_by_key',
        'work_leased',
        'work_parked',
      ]);

      await moduleRef.close();
      await expect(workStore.ping()).rejects.toThrow();
      await expect(leases.ping()).rejects.toThrow();
      await client.db(database).dropDatabase();
    });
  });
});
