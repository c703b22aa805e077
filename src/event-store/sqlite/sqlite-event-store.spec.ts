import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamicModule } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Database from 'better-sqlite3';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import {
  describeEventStoreContract,
  EventStoreHarness,
  SettableClock,
} from '../event-store.contract';
import {
  EventStore,
  NewEvent,
  RecordedEvent,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { SqliteEventStore } from './sqlite-event-store';
import { SqliteEventStoreModule } from './sqlite-event-store.module';

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'sqlite-event-store-'));
}

const harness: EventStoreHarness = {
  async open(clock: Clock) {
    const directory = temporaryDirectory();
    const path = join(directory, 'events.sqlite');
    const stores: SqliteEventStore[] = [];
    const openStore = () => {
      const store = new SqliteEventStore({ path, clock });
      stores.push(store);
      return store;
    };
    return {
      store: openStore(),
      reopen: async () => openStore(),
      dispose: async () => {
        await Promise.all(stores.map((store) => store.close()));
        rmSync(directory, { recursive: true, force: true });
      },
    };
  },
};

describeEventStoreContract('sqlite', harness);

function newEvent(type = 'SomethingHappened'): NewEvent {
  return {
    id: randomUUID(),
    type,
    data: {},
    metadata: { correlationId: 'c', causationId: 'c', actor: 'test', schemaVersion: 1 },
  };
}

describe('SqliteEventStore', () => {
  const clock = new SettableClock(new Date('2031-01-01T00:00:00.000Z'));
  let directory: string;
  let path: string;
  let stores: SqliteEventStore[];

  function openStore(pollIntervalMs?: number): SqliteEventStore {
    const store = new SqliteEventStore({ path, clock, pollIntervalMs });
    stores.push(store);
    return store;
  }

  /** Resolves with the events once the subscription has delivered `count` of them. */
  function collect(
    store: EventStore,
    count: number,
  ): { events: Promise<RecordedEvent[]>; stop(): Promise<void> } {
    const received: RecordedEvent[] = [];
    let arrived = () => {};
    const events = new Promise<RecordedEvent[]>((resolve) => {
      arrived = () => {
        if (received.length >= count) resolve(received);
      };
    });
    const subscription = store.subscribeToAll({}, async (batch) => {
      received.push(...batch);
      arrived();
    });
    return { events, stop: () => subscription.stop() };
  }

  beforeEach(() => {
    directory = temporaryDirectory();
    path = join(directory, 'events.sqlite');
    stores = [];
  });

  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    rmSync(directory, { recursive: true, force: true });
  });

  it('keeps the file in WAL mode', () => {
    openStore();

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('refuses to update or delete events in the file', async () => {
    await openStore().appendToStream('s', [newEvent()], { expectedRevision: 'no_stream' });

    const raw = new Database(path);
    expect(() => raw.prepare("UPDATE events SET type = 'Forged'").run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    raw.close();
  });

  it('refuses an append with no events', async () => {
    await expect(
      openStore().appendToStream('s', [], { expectedRevision: 'any' }),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it('commits appends made in the same tick in one transaction', async () => {
    const store = openStore();
    const raw = new Database(path, { readonly: true });
    const pageSize = Number(raw.pragma('page_size', { simple: true }));
    raw.close();
    // The WAL file is a 32-byte header, then frames of a 24-byte header and one page.
    const walFrames = () => (statSync(`${path}-wal`).size - 32) / (24 + pageSize);
    const framesBefore = walFrames();

    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.appendToStream(`s-${i}`, [newEvent()], { expectedRevision: 'no_stream' }),
      ),
    );

    // One transaction per append would write at least one WAL frame per append.
    expect(walFrames() - framesBefore).toBeLessThan(100);
  });

  it('checks each append of a group commit against the appends queued before it', async () => {
    const store = openStore();

    const [first, second, stale] = await Promise.allSettled([
      store.appendToStream('s', [newEvent()], { expectedRevision: 'no_stream' }),
      store.appendToStream('s', [newEvent()], { expectedRevision: 0n }),
      store.appendToStream('s', [newEvent()], { expectedRevision: 0n }),
    ]);

    expect(first).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 0n } });
    expect(second).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 1n } });
    expect(stale).toMatchObject({ status: 'rejected', reason: { actual: 1n } });
  });

  it('rejects only the failing append of a group commit', async () => {
    const store = openStore();
    const reused = newEvent();
    await store.appendToStream('first', [reused], { expectedRevision: 'no_stream' });

    const [duplicate, other] = await Promise.allSettled([
      store.appendToStream('dup', [newEvent(), reused], { expectedRevision: 'no_stream' }),
      store.appendToStream('other', [newEvent()], { expectedRevision: 'no_stream' }),
    ]);

    expect(duplicate).toMatchObject({
      status: 'rejected',
      reason: { code: 'SQLITE_CONSTRAINT_UNIQUE' },
    });
    expect(other.status).toBe('fulfilled');
    expect(await store.readStream('dup')).toEqual([]);
  });

  it('commits appends still queued when closed', async () => {
    const store = openStore();
    const event = newEvent();

    const appended = store.appendToStream('s', [event], { expectedRevision: 'no_stream' });
    await store.close();

    await expect(appended).resolves.toMatchObject({ nextExpectedRevision: 0n });
    const [recorded] = await openStore().readStream('s');
    expect(recorded.id).toBe(event.id);
  });

  it('wakes its own subscriptions on append, without waiting for the poll interval', async () => {
    const store = openStore(60_000);
    const subscription = collect(store, 1);
    const event = newEvent();

    await store.appendToStream('s', [event], { expectedRevision: 'no_stream' });

    expect((await subscription.events).map((e) => e.id)).toEqual([event.id]);
    await subscription.stop();
  });

  describe('two stores on one file, as two processes would', () => {
    it("delivers one store's appends to the other's subscription by polling", async () => {
      const writer = openStore();
      const reader = openStore(20);
      const subscription = collect(reader, 2);
      const events = [newEvent(), newEvent()];

      await writer.appendToStream('s', [events[0]], { expectedRevision: 'no_stream' });
      await writer.appendToStream('s', [events[1]], { expectedRevision: 0n });

      expect((await subscription.events).map((e) => e.id)).toEqual(events.map((e) => e.id));
      await subscription.stop();
    });

    it('lets exactly one of two concurrent appends to the same stream win', async () => {
      const instances = [openStore(), openStore()];

      const outcomes = await Promise.allSettled(
        [...instances, ...instances].map((store) =>
          store.appendToStream('s', [newEvent()], { expectedRevision: 'no_stream' }),
        ),
      );

      const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(outcomes.length - rejected.length).toBe(1);
      for (const { reason } of rejected) expect(reason).toBeInstanceOf(WrongExpectedRevisionError);
    });
  });
});

/** Stands in for CoreModule: provides globally only what SqliteEventStoreModule injects. */
class GlobalsModule {}

describe('SqliteEventStoreModule', () => {
  it('opens events.sqlite in the data directory and closes it on shutdown', async () => {
    const dataDir = join(temporaryDirectory(), 'nested', 'data');
    const config = Object.assign(new AppConfig(), { dataDir, sqlitePollIntervalMs: 50 });
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
      imports: [globals, SqliteEventStoreModule],
    }).compile();
    const app = await moduleRef.init();
    const store = app.get(EventStore);

    await store.appendToStream('s', [newEvent()], { expectedRevision: 'no_stream' });
    expect(existsSync(join(dataDir, 'events.sqlite'))).toBe(true);
    await app.close();

    await expect(store.ping()).rejects.toThrow(/closed/);
    rmSync(join(dataDir, '..', '..'), { recursive: true, force: true });
  });
});
