import {
  describeWithContainers,
  startEventStoreDb,
  StartedEventStoreDb,
} from '../../test/support/containers';
import { SettableClock } from '../event-store/event-store.contract';
import { EventStoreDbEventStore } from '../event-store/eventstoredb/eventstoredb-event-store';
import { describeAccountStreamsContract } from './account-streams.contract';

jest.setTimeout(180_000);

describeWithContainers('AccountStreams against KurrentDB', () => {
  let server: StartedEventStoreDb | undefined;

  beforeAll(async () => {
    server = await startEventStoreDb();
  });

  afterAll(async () => {
    await server?.stop();
  });

  describeAccountStreamsContract('eventstoredb', {
    async open() {
      if (server === undefined) throw new Error('the KurrentDB container did not start');
      const clock = new SettableClock(new Date('2030-01-01T00:00:00.000Z'));
      const connect = (started: StartedEventStoreDb) =>
        new EventStoreDbEventStore({ connectionString: started.connectionString, clock });
      const first = connect(server);
      const second = connect(server);
      return {
        first,
        second,
        dispose: async () => {
          await Promise.all([first.close(), second.close()]);
        },
      };
    },
  });
});
