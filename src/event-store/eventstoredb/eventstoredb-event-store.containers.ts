import { randomUUID } from 'node:crypto';
import { DynamicModule } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  describeWithContainers,
  startEventStoreDb,
  StartedEventStoreDb,
} from '../../../test/support/containers';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import {
  describeEventStoreContract,
  EventStoreHarness,
  SettableClock,
} from '../event-store.contract';
import { EventStore, NewEvent, RecordedEvent } from '../event-store.port';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import { EventStoreDbEventStoreModule } from './eventstoredb-event-store.module';

// Two contract tests start a server of their own, within the test.
jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function newEvent(n: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'Numbered',
    data: { n },
    metadata: { correlationId: 'c', causationId: 'c', actor: 'test', schemaVersion: 1 },
  };
}

/** Stands in for CoreModule: provides globally only what EventStoreDbEventStoreModule injects. */
class GlobalsModule {}

describeWithContainers('EventStoreDbEventStore against KurrentDB', () => {
  let shared: StartedEventStoreDb | undefined;

  beforeAll(async () => {
    shared = await startEventStoreDb();
  });

  afterAll(async () => {
    await shared?.stop();
  });

  function sharedServer(): StartedEventStoreDb {
    if (shared === undefined) throw new Error('the shared KurrentDB container did not start');
    return shared;
  }

  const harness: EventStoreHarness = {
    async open(clock: Clock, { empty }: { empty: boolean }) {
      const server = empty ? await startEventStoreDb() : sharedServer();
      const stores: EventStoreDbEventStore[] = [];
      const openStore = () => {
        const store = new EventStoreDbEventStore({
          connectionString: server.connectionString,
          clock,
        });
        stores.push(store);
        return store;
      };
      return {
        store: openStore(),
        reopen: async () => openStore(),
        dispose: async () => {
          await Promise.all(stores.map((store) => store.close()));
          if (empty) await server.stop();
        },
      };
    },
  };

  describeEventStoreContract('eventstoredb', harness);

  describe('positions', () => {
    const clock = new SettableClock(new Date('2031-01-01T00:00:00.000Z'));
    let store: EventStoreDbEventStore;

    beforeEach(() => {
      store = new EventStoreDbEventStore({
        connectionString: sharedServer().connectionString,
        clock,
      });
    });

    afterEach(async () => {
      await store.close();
    });

    // Stream reads get positions from the server since 22.6 (kurrent-io/KurrentDB#3459); events
    // of one append share a commit position, so this is where the two could disagree.
    it('gives the events of one append the same positions in their stream, in $all and live', async () => {
      const streamName = `positions-${randomUUID()}`;
      const start = await store.headPosition();
      const live: RecordedEvent[] = [];
      const subscription = store.subscribeToAll(
        { after: start, filter: { streamNamePrefixes: [streamName] } },
        async (events) => {
          live.push(...events);
        },
      );

      const result = await store.appendToStream(streamName, [1, 2, 3].map(newEvent), {
        expectedRevision: 'no_stream',
      });
      const inStream = await store.readStream(streamName);
      const inAll = await store.readAll({
        after: start,
        filter: { streamNamePrefixes: [streamName] },
      });
      const deadline = Date.now() + 5000;
      while (live.length < 3 && Date.now() < deadline) await sleep(10);
      await subscription.stop();

      const positions = (events: RecordedEvent[]) => events.map((event) => event.position);
      expect(positions(inAll)).toEqual(positions(inStream));
      expect(positions(live)).toEqual(positions(inStream));
      expect(result.position).toBe(inStream[2].position);
      expect(await store.headPosition()).toBe(result.position);
    });
  });

  describe('EventStoreDbEventStoreModule', () => {
    it('connects to EVENTSTOREDB_CONNECTION_STRING and closes the client on shutdown', async () => {
      const config = Object.assign(new AppConfig(), {
        eventStoreDb: { connectionString: sharedServer().connectionString },
      });
      const clock = new SettableClock(new Date('2031-01-01T00:00:00.000Z'));
      const globals: DynamicModule = {
        module: GlobalsModule,
        global: true,
        providers: [
          { provide: AppConfig, useValue: config },
          { provide: Clock, useValue: clock },
        ],
        exports: [AppConfig, Clock],
      };
      const moduleRef = await Test.createTestingModule({
        imports: [globals, EventStoreDbEventStoreModule],
      }).compile();
      const app = await moduleRef.init();
      const store = app.get(EventStore);
      const streamName = `module-${randomUUID()}`;

      await store.appendToStream(streamName, [newEvent(1)], { expectedRevision: 'no_stream' });
      expect(await store.readStream(streamName)).toHaveLength(1);
      await app.close();

      await expect(store.ping()).rejects.toThrow(/closed/);
    });
  });
});
