import { install } from '@sinonjs/fake-timers';
import {
  describeEventStoreContract,
  EventStoreHarness,
  SettableClock,
} from '../event-store.contract';
import { NewEvent, RecordedEvent } from '../event-store.port';
import { MemoryEventStorage, MemoryEventStore } from './memory-event-store';

const harness: EventStoreHarness = {
  async open(clock) {
    const storage = new MemoryEventStorage();
    const stores: MemoryEventStore[] = [];
    const openStore = () => {
      const store = new MemoryEventStore(storage, clock);
      stores.push(store);
      return store;
    };
    return {
      store: openStore(),
      reopen: async () => openStore(),
      dispose: async () => {
        await Promise.all(stores.map((store) => store.close()));
      },
    };
  },
};

describeEventStoreContract('memory', harness);

let eventCount = 0;

function newEvent(data: Record<string, unknown> = {}): NewEvent {
  eventCount += 1;
  return {
    id: `event-${eventCount}`,
    type: 'SomethingHappened',
    data,
    metadata: { correlationId: 'c', causationId: 'c', actor: 'test', schemaVersion: 1 },
  };
}

describe('MemoryEventStore', () => {
  const clock = new SettableClock(new Date('2031-01-01T00:00:00.000Z'));
  let storage: MemoryEventStorage;

  beforeEach(() => {
    storage = new MemoryEventStorage();
  });

  it('keeps what it stored when the caller changes the objects it passed in or read back', async () => {
    const store = new MemoryEventStore(storage, clock);
    const event = newEvent({ nested: { amount: 100 } });
    await store.appendToStream('s', [event], { expectedRevision: 'no_stream' });

    (event.data.nested as { amount: number }).amount = 1;
    event.metadata.actor = 'someone else';
    const [read] = await store.readStream('s');
    (read.data.nested as { amount: number }).amount = 2;
    read.metadata.actor = 'forger';

    const [again] = await store.readStream('s');
    expect(again.data).toEqual({ nested: { amount: 100 } });
    expect(again.metadata.actor).toBe('test');
  });

  it('stores data as the SQLite store does, through JSON (undefined fields dropped)', async () => {
    const store = new MemoryEventStore(storage, clock);

    await store.appendToStream('s', [newEvent({ kept: 1, dropped: undefined })], {
      expectedRevision: 'any',
    });

    const [recorded] = await store.readStream('s');
    expect(Object.keys(recorded.data)).toEqual(['kept']);
  });

  it('refuses an append with no events', async () => {
    const store = new MemoryEventStore(storage, clock);

    await expect(store.appendToStream('s', [], { expectedRevision: 'any' })).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  it('refuses an event id already stored, or repeated in one append, writing nothing', async () => {
    const store = new MemoryEventStore(storage, clock);
    const reused = newEvent();
    await store.appendToStream('first', [reused], { expectedRevision: 'no_stream' });
    const repeated = newEvent();

    await expect(
      store.appendToStream('dup', [newEvent(), reused], { expectedRevision: 'no_stream' }),
    ).rejects.toThrow(reused.id);
    await expect(
      store.appendToStream('dup', [repeated, repeated], { expectedRevision: 'no_stream' }),
    ).rejects.toThrow(repeated.id);

    expect(await store.readStream('dup')).toEqual([]);
    expect(await store.headPosition()).toBe(1n);
  });

  it('rejects a negative or fractional maxCount', async () => {
    const store = new MemoryEventStore(storage, clock);

    await expect(store.readAll({ maxCount: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(store.readStream('s', { maxCount: 1.5 })).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects every call once closed, and refuses a subscription', async () => {
    const store = new MemoryEventStore(storage, clock);
    await store.close();

    await expect(store.ping()).rejects.toThrow(/closed/);
    await expect(store.readAll()).rejects.toThrow(/closed/);
    await expect(store.readStream('s')).rejects.toThrow(/closed/);
    await expect(store.headPosition()).rejects.toThrow(/closed/);
    await expect(store.subscribeToAll({}, async () => undefined).done).rejects.toThrow(/closed/);
  });

  describe('two instances on one storage, as the simulator opens them', () => {
    it("wakes one instance's subscription on the other's append", async () => {
      const writer = new MemoryEventStore(storage, clock);
      const reader = new MemoryEventStore(storage, clock);
      const received: string[] = [];
      const subscription = reader.subscribeToAll({}, async (events) => {
        received.push(...events.map((event) => event.id));
      });
      const event = newEvent();

      await writer.appendToStream('s', [event], { expectedRevision: 'no_stream' });
      await flushMicrotasks();

      expect(received).toEqual([event.id]);
      await subscription.stop();
    });

    it('keeps the events of a closed instance for the others', async () => {
      const dropped = new MemoryEventStore(storage, clock);
      const event = newEvent();
      await dropped.appendToStream('s', [event], { expectedRevision: 'no_stream' });
      await dropped.close();

      const survivor = new MemoryEventStore(storage, clock);

      expect((await survivor.readStream('s')).map((e) => e.id)).toEqual([event.id]);
      await expect(survivor.ping()).resolves.toBeUndefined();
    });
  });

  describe('under a virtual clock that never moves', () => {
    let timers: ReturnType<typeof install>;

    beforeEach(() => {
      timers = install({ toFake: ['setTimeout', 'setInterval', 'setImmediate', 'Date'] });
    });

    afterEach(() => {
      timers.uninstall();
    });

    /** Appends and subscribes as two instances would, returning what the subscriber saw. */
    async function run(): Promise<RecordedEvent[]> {
      const runStorage = new MemoryEventStorage();
      const writer = new MemoryEventStore(runStorage, clock);
      const reader = new MemoryEventStore(runStorage, clock);
      const received: RecordedEvent[] = [];
      const subscription = reader.subscribeToAll({ maxBatchSize: 2 }, async (events) => {
        received.push(...events);
      });
      for (let i = 0; i < 5; i += 1) {
        await writer.appendToStream(`s-${i % 2}`, [newEventNumbered(i)], {
          expectedRevision: 'any',
        });
      }
      await flushMicrotasks();
      await subscription.stop();
      return received;
    }

    it('catches up, delivers live appends and stops through microtasks alone, the same way each run', async () => {
      const first = await run();
      const second = await run();

      expect(first.map((event) => event.data)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
      expect(second).toEqual(first);
      expect(timers.countTimers()).toBe(0);
    });
  });
});

function newEventNumbered(n: number): NewEvent {
  return { ...newEvent({ n }), id: `numbered-${n}` };
}

/** Lets every pending promise callback run; no timer is involved. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 50; i += 1) await Promise.resolve();
}
