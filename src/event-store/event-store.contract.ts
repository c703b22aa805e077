import { randomUUID } from 'node:crypto';
import { Clock } from '../shared/clock';
import {
  BatchHandler,
  EventData,
  EventStore,
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
  WrongExpectedRevisionError,
} from './event-store.port';
import { chainHash } from './hash-chain';

/**
 * The behaviour every EventStore adapter must show, written against the port only. An adapter's
 * spec calls describeEventStoreContract with a harness that opens its kind of store.
 */

/** A clock the tests set by hand, so recordedAt can be checked exactly. */
export class SettableClock extends Clock {
  constructor(private current: Date) {
    super();
  }

  now(): Date {
    return new Date(this.current.getTime());
  }

  set(date: Date): void {
    this.current = date;
  }
}

export interface OpenedEventStore {
  store: EventStore;
  /** Opens the same underlying store again, with the same clock. The suite closes `store` first. */
  reopen(): Promise<EventStore>;
  /** Closes every store opened through this handle and releases the storage. */
  dispose(): Promise<void>;
}

export interface EventStoreHarness {
  /**
   * Opens a store whose recordedAt comes from `clock`. Only two tests rely on emptiness
   * ("headPosition is 0n" and "readAll without after") and pass `empty: true`; every other test
   * uses stream names unique to itself and reads `$all` after the head position it saw first, so
   * with `empty: false` the harness may hand back a store that holds other tests' events (a
   * server started once for the whole suite).
   */
  open(clock: Clock, options: { empty: boolean }): Promise<OpenedEventStore>;
}

/** Long enough for a live event to arrive if an adapter wrongly delivered it. */
const QUIET_PERIOD_MS = 150;
const DELIVERY_TIMEOUT_MS = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function newEvent(type = 'SomethingHappened', data: EventData = {}): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: {
      correlationId: 'correlation-1',
      causationId: 'cause-1',
      actor: 'contract-test',
      schemaVersion: 1,
    },
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected a rejection, but the promise resolved');
}

async function eventually(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${description}`);
    await sleep(5);
  }
}

function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Records what a subscription hands over. */
class Recorder {
  readonly batches: RecordedEvent[][] = [];

  readonly handler: BatchHandler = async (events) => {
    this.batches.push(events);
  };

  get ids(): string[] {
    return this.batches.flat().map((event) => event.id);
  }

  async untilCount(count: number): Promise<void> {
    await eventually(() => this.ids.length >= count, `${count} events are delivered`);
  }
}

const ids = (events: { id: string }[]) => events.map((event) => event.id);
const positions = (events: RecordedEvent[]) => events.map((event) => event.position);

function expectStrictlyIncreasing(values: bigint[]): void {
  values.slice(1).forEach((value, index) => expect(value > values[index]).toBe(true));
}

export function describeEventStoreContract(adapterName: string, harness: EventStoreHarness): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    const firstInstant = new Date('2031-02-03T04:05:06.789Z');
    let clock: SettableClock;
    let opened: OpenedEventStore;
    let store: EventStore;
    let scope: string;
    /** Head position when the test started: `$all` reads look only after it. */
    let start: bigint;

    const stream = (name: string) => `${scope}${name}`;

    async function append(
      streamName: string,
      events: NewEvent[],
      expectedRevision: ExpectedRevision = 'any',
    ) {
      return store.appendToStream(streamName, events, { expectedRevision });
    }

    /** A stream holding `count` events, revisions 0 to count - 1, with data { n: revision }. */
    async function streamWith(name: string, count: number): Promise<NewEvent[]> {
      const events = Array.from({ length: count }, (_, n) => newEvent('Numbered', { n }));
      await append(stream(name), events, 'no_stream');
      return events;
    }

    beforeEach(async () => {
      clock = new SettableClock(firstInstant);
      opened = await harness.open(clock, { empty: false });
      store = opened.store;
      scope = `contract${randomUUID().replaceAll('-', '')}-`;
      start = await store.headPosition();
    });

    /** Replaces the test's store with an empty one, for the two tests that need emptiness. */
    async function useEmptyStore(): Promise<void> {
      await opened.dispose();
      opened = await harness.open(clock, { empty: true });
      store = opened.store;
      start = await store.headPosition();
    }

    afterEach(async () => {
      await opened.dispose();
    });

    describe('appendToStream', () => {
      it('starts a stream at revision 0, with bigint revisions and positions', async () => {
        const result = await append(stream('s'), [newEvent()], 'no_stream');

        expect(result.nextExpectedRevision).toBe(0n);
        expect(typeof result.position).toBe('bigint');
        const [recorded] = await store.readStream(stream('s'));
        expect(recorded.revision).toBe(0n);
        expect(recorded.position).toBe(result.position);
      });

      it('no_stream: appends to a stream that does not exist', async () => {
        const event = newEvent();

        await append(stream('s'), [event], 'no_stream');

        expect(ids(await store.readStream(stream('s')))).toEqual([event.id]);
      });

      it('no_stream: rejects when the stream exists, reporting its revision', async () => {
        await streamWith('s', 2);

        const error = await rejectionOf(append(stream('s'), [newEvent()], 'no_stream'));

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({
          streamName: stream('s'),
          expected: 'no_stream',
          actual: 1n,
        });
      });

      it('stream_exists: appends to a stream that exists', async () => {
        await streamWith('s', 1);

        const result = await append(stream('s'), [newEvent()], 'stream_exists');

        expect(result.nextExpectedRevision).toBe(1n);
      });

      it('stream_exists: rejects when the stream does not exist, reporting no_stream', async () => {
        const error = await rejectionOf(append(stream('s'), [newEvent()], 'stream_exists'));

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({
          streamName: stream('s'),
          expected: 'stream_exists',
          actual: 'no_stream',
        });
      });

      it('any: appends whether the stream exists or not', async () => {
        const first = await append(stream('s'), [newEvent()], 'any');
        const second = await append(stream('s'), [newEvent()], 'any');

        expect([first.nextExpectedRevision, second.nextExpectedRevision]).toEqual([0n, 1n]);
      });

      it('exact revision: appends when it is the current revision', async () => {
        await streamWith('s', 3);

        const result = await append(stream('s'), [newEvent()], 2n);

        expect(result.nextExpectedRevision).toBe(3n);
      });

      it('exact revision: rejects a stale revision, reporting the current one', async () => {
        await streamWith('s', 3);

        const error = await rejectionOf(append(stream('s'), [newEvent()], 1n));

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamName: stream('s'), expected: 1n, actual: 2n });
      });

      it('exact revision: rejects a revision ahead of the stream', async () => {
        await streamWith('s', 3);

        const error = await rejectionOf(append(stream('s'), [newEvent()], 5n));

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamName: stream('s'), expected: 5n, actual: 2n });
      });

      it('exact revision: rejects 0n for a stream that does not exist, reporting no_stream', async () => {
        const error = await rejectionOf(append(stream('s'), [newEvent()], 0n));

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamName: stream('s'), expected: 0n, actual: 'no_stream' });
      });

      it('a rejected append writes none of its events', async () => {
        const existing = await streamWith('s', 2);
        const headBefore = await store.headPosition();

        await rejectionOf(append(stream('s'), [newEvent(), newEvent(), newEvent()], 0n));

        expect(ids(await store.readStream(stream('s')))).toEqual(ids(existing));
        expect(await store.headPosition()).toBe(headBefore);
      });

      it('writes several events at consecutive revisions, adjacent in $all, and returns the last', async () => {
        const first = [newEvent(), newEvent(), newEvent()];
        const second = [newEvent(), newEvent(), newEvent()];

        const [firstResult, secondResult] = await Promise.all([
          append(stream('a'), first, 'no_stream'),
          append(stream('b'), second, 'no_stream'),
        ]);

        const streamA = await store.readStream(stream('a'));
        expect(streamA.map((event) => event.revision)).toEqual([0n, 1n, 2n]);
        expect(firstResult).toEqual({ nextExpectedRevision: 2n, position: streamA[2].position });
        const streamB = await store.readStream(stream('b'));
        expect(secondResult).toEqual({ nextExpectedRevision: 2n, position: streamB[2].position });
        const all = ids(await store.readAll({ after: start }));
        const firstAt = all.indexOf(first[0].id);
        expect(all.slice(firstAt, firstAt + 3)).toEqual(ids(first));
        const secondAt = all.indexOf(second[0].id);
        expect(all.slice(secondAt, secondAt + 3)).toEqual(ids(second));
      });

      it('records id, type, data and metadata as given, with recordedAt from the clock', async () => {
        const data = {
          amount: 1250,
          currency: 'EUR',
          note: 'café ☕',
          tags: ['a', 'b'],
          none: null,
        };
        const event = newEvent('TransactionRequested', data);

        await append(stream('s'), [event], 'no_stream');

        const [recorded] = await store.readStream(stream('s'));
        expect(recorded).toMatchObject({
          id: event.id,
          streamName: stream('s'),
          type: 'TransactionRequested',
          data,
          metadata: { ...event.metadata, recordedAt: firstInstant.toISOString() },
        });
      });

      it('takes recordedAt from the injected clock at each append', async () => {
        const later = new Date('2031-02-03T05:00:00.000Z');
        await append(stream('s'), [newEvent()], 'no_stream');
        clock.set(later);

        await append(stream('s'), [newEvent()], 0n);

        const recorded = await store.readStream(stream('s'));
        expect(recorded.map((event) => event.metadata.recordedAt)).toEqual([
          firstInstant.toISOString(),
          later.toISOString(),
        ]);
      });

      it('lets exactly one of many concurrent appends with the same expected revision win', async () => {
        await streamWith('s', 1);
        const contenders = Array.from({ length: 10 }, () => newEvent());

        const outcomes = await Promise.allSettled(
          contenders.map((event) => append(stream('s'), [event], 0n)),
        );

        const winners = contenders.filter((_, i) => outcomes[i].status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
            expect(outcome.reason).toMatchObject({ expected: 0n, actual: 1n });
          }
        }
        const recorded = await store.readStream(stream('s'));
        expect(ids(recorded.slice(1))).toEqual([winners[0].id]);
      });

      it('lets exactly one of many concurrent no_stream appends create the stream', async () => {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, () => append(stream('s'), [newEvent()], 'no_stream')),
        );

        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        expect(await store.readStream(stream('s'))).toHaveLength(1);
      });

      it('stores every acknowledged append of 200 concurrent appenders to different streams', async () => {
        const appends = Array.from({ length: 200 }, (_, i) => ({
          streamName: stream(`many-${i}`),
          event: newEvent(),
        }));

        const outcomes = await Promise.allSettled(
          appends.map(({ streamName, event }) => append(streamName, [event], 'no_stream')),
        );

        expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
        const all = await store.readAll({ after: start });
        expect(new Set(ids(all))).toEqual(new Set(appends.map(({ event }) => event.id)));
        expect(new Set(positions(all)).size).toBe(200);
      });
    });

    describe('hash chain', () => {
      it('gives revision 0 no previous hash and links each event to the one before, across appends', async () => {
        await append(stream('s'), [newEvent(), newEvent()], 'no_stream');
        await append(stream('s'), [newEvent()], 1n);

        const recorded = await store.readStream(stream('s'));

        expect(recorded[0].previousHash).toBeNull();
        expect(recorded[1].previousHash).toBe(recorded[0].hash);
        expect(recorded[2].previousHash).toBe(recorded[1].hash);
        expect(new Set(recorded.map((event) => event.hash)).size).toBe(3);
      });

      it('hashes exactly the recorded content', async () => {
        await append(stream('s'), [newEvent('A', { n: 1 }), newEvent('B', { nested: { x: [1] } })]);
        await append(stream('other'), [newEvent('A', { n: 1 })]);

        const recorded = await store.readAll({ after: start });

        expect(recorded).toHaveLength(3);
        for (const event of recorded) {
          const { id, streamName, revision, type, data, metadata, previousHash } = event;
          expect(event.hash).toBe(
            chainHash({ id, streamName, revision, type, data, metadata, previousHash }),
          );
        }
      });
    });

    describe('readStream', () => {
      it('returns an empty array for a stream that does not exist, in both directions', async () => {
        expect(await store.readStream(stream('missing'))).toEqual([]);
        expect(await store.readStream(stream('missing'), { direction: 'backwards' })).toEqual([]);
      });

      it('reads forwards from revision 0 by default', async () => {
        const events = await streamWith('s', 5);

        const recorded = await store.readStream(stream('s'));

        expect(ids(recorded)).toEqual(ids(events));
        expect(recorded.map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
      });

      it('reads backwards from the last revision', async () => {
        await streamWith('s', 5);

        const recorded = await store.readStream(stream('s'), { direction: 'backwards' });

        expect(recorded.map((event) => event.revision)).toEqual([4n, 3n, 2n, 1n, 0n]);
      });

      it('starts at fromRevision, inclusive, in both directions', async () => {
        await streamWith('s', 5);

        const forwards = await store.readStream(stream('s'), { fromRevision: 2n });
        const backwards = await store.readStream(stream('s'), {
          direction: 'backwards',
          fromRevision: 2n,
        });

        expect(forwards.map((event) => event.revision)).toEqual([2n, 3n, 4n]);
        expect(backwards.map((event) => event.revision)).toEqual([2n, 1n, 0n]);
      });

      it('returns at most maxCount events, in both directions', async () => {
        await streamWith('s', 5);

        const forwards = await store.readStream(stream('s'), { fromRevision: 1n, maxCount: 2 });
        const backwards = await store.readStream(stream('s'), {
          direction: 'backwards',
          maxCount: 2,
        });

        expect(forwards.map((event) => event.revision)).toEqual([1n, 2n]);
        expect(backwards.map((event) => event.revision)).toEqual([4n, 3n]);
      });

      it('returns nothing past the end of the stream', async () => {
        await streamWith('s', 2);

        expect(await store.readStream(stream('s'), { fromRevision: 2n })).toEqual([]);
      });

      it('reads only the named stream, not others sharing its prefix', async () => {
        const [event] = await streamWith('a-1', 1);
        await streamWith('a-10', 1);

        expect(ids(await store.readStream(stream('a-1')))).toEqual([event.id]);
      });
    });

    describe('readAll', () => {
      /** Appends one event at a time, so $all order is this order. */
      async function appendInOrder(entries: [name: string, type: string][]): Promise<string[]> {
        const appended: string[] = [];
        for (const [name, type] of entries) {
          const event = newEvent(type);
          await append(stream(name), [event]);
          appended.push(event.id);
        }
        return appended;
      }

      it('starts at the beginning when no position is given', async () => {
        await useEmptyStore();
        const appended = await appendInOrder([['a', 'X']]);

        expect(ids(await store.readAll())).toEqual(appended);
      });

      it('returns events of all streams in append order, with strictly increasing positions', async () => {
        const appended = await appendInOrder([
          ['a', 'X'],
          ['b', 'X'],
          ['a', 'X'],
          ['c', 'X'],
        ]);

        const all = await store.readAll({ after: start });

        expect(ids(all)).toEqual(appended);
        expectStrictlyIncreasing(positions(all));
        const streamA = await store.readStream(stream('a'));
        expect(positions(streamA)).toEqual([all[0].position, all[2].position]);
      });

      it('reads strictly after the given position', async () => {
        const appended = await appendInOrder([
          ['a', 'X'],
          ['b', 'X'],
          ['c', 'X'],
        ]);
        const [, second] = await store.readAll({ after: start });

        expect(ids(await store.readAll({ after: second.position }))).toEqual([appended[2]]);
      });

      it('returns nothing after a position beyond the head, however far (a client may send one)', async () => {
        await appendInOrder([['a', 'X']]);
        const head = await store.headPosition();

        expect(await store.readAll({ after: head })).toEqual([]);
        expect(await store.readAll({ after: head + 1n })).toEqual([]);
        expect(await store.readAll({ after: 2n ** 100n })).toEqual([]);
      });

      it('returns at most maxCount events', async () => {
        const appended = await appendInOrder([
          ['a', 'X'],
          ['b', 'X'],
          ['c', 'X'],
        ]);

        expect(ids(await store.readAll({ after: start, maxCount: 2 }))).toEqual(
          appended.slice(0, 2),
        );
      });

      it('keeps streams starting with one of the prefixes, case-sensitively', async () => {
        const [order1, , order2, payment] = await appendInOrder([
          ['order-1', 'X'],
          ['ORDER-2', 'X'],
          ['order-2', 'X'],
          ['payment-1', 'X'],
          ['refund-1', 'X'],
        ]);
        await append(`not-${stream('order-3')}`, [newEvent()]);

        const orders = await store.readAll({
          after: start,
          filter: { streamNamePrefixes: [stream('order-')] },
        });
        const ordersAndPayments = await store.readAll({
          after: start,
          filter: { streamNamePrefixes: [stream('order-'), stream('payment-')] },
        });

        expect(ids(orders)).toEqual([order1, order2]);
        expect(ids(ordersAndPayments)).toEqual([order1, order2, payment]);
      });

      it('keeps events of the given types', async () => {
        const [, paid, , refunded] = await appendInOrder([
          ['a', 'Requested'],
          ['a', 'Paid'],
          ['b', 'Requested'],
          ['b', 'Refunded'],
        ]);

        const all = await store.readAll({
          after: start,
          filter: { eventTypes: ['Paid', 'Refunded'] },
        });

        expect(ids(all)).toEqual([paid, refunded]);
      });

      it('keeps only events matching both prefix and type, and counts maxCount after filtering', async () => {
        const [, paid1, , , paid2] = await appendInOrder([
          ['order-1', 'Requested'],
          ['order-1', 'Paid'],
          ['payment-1', 'Paid'],
          ['order-2', 'Requested'],
          ['order-2', 'Paid'],
          ['order-3', 'Paid'],
        ]);

        const all = await store.readAll({
          after: start,
          maxCount: 2,
          filter: { streamNamePrefixes: [stream('order-')], eventTypes: ['Paid'] },
        });

        expect(ids(all)).toEqual([paid1, paid2]);
      });
    });

    describe('headPosition', () => {
      it('is 0n for an empty store', async () => {
        await useEmptyStore();

        expect(await store.headPosition()).toBe(0n);
      });

      it('is the position of the last event appended', async () => {
        await append(stream('a'), [newEvent()]);
        const { position } = await append(stream('b'), [newEvent(), newEvent()]);

        expect(await store.headPosition()).toBe(position);
        expect(position > start).toBe(true);
      });
    });

    describe('positionBefore', () => {
      it('is 0n for an empty store', async () => {
        await useEmptyStore();

        expect(await store.positionBefore(new Date('2099-01-01T00:00:00.000Z'))).toBe(0n);
      });

      it('is the last event recorded before the time: reading after it gives what came since', async () => {
        // Later than every other test's events, for a store they share.
        const minute = (n: number) => new Date(Date.parse('2031-02-04T00:00:00.000Z') + n * 60_000);
        const positions: bigint[] = [];
        for (const n of [0, 1, 2]) {
          clock.set(minute(n));
          await append(stream(`m${n}`), [newEvent()]);
          positions.push((await append(stream(`m${n}`), [newEvent()])).position);
        }

        expect(await store.positionBefore(minute(0.5))).toBe(positions[0]);
        expect(await store.positionBefore(minute(2))).toBe(positions[1]);
        expect(await store.positionBefore(minute(60))).toBe(positions[2]);
        expect((await store.positionBefore(minute(0))) < positions[0]).toBe(true);
        const since = await store.readAll({ after: await store.positionBefore(minute(1)) });
        expect(since.map((event) => event.streamName)).toEqual([
          stream('m1'),
          stream('m1'),
          stream('m2'),
          stream('m2'),
        ]);
      });
    });

    describe('subscribeToAll', () => {
      let subscription: { stop(): Promise<void> } | undefined;

      afterEach(async () => {
        await subscription?.stop();
        subscription = undefined;
      });

      it('catches up after a position, then delivers later appends live, in order', async () => {
        const [first, ...rest] = [newEvent(), newEvent(), newEvent()];
        const { position } = await append(stream('a'), [first]);
        await append(stream('b'), rest);
        const recorder = new Recorder();

        subscription = store.subscribeToAll({ after: position }, recorder.handler);
        await recorder.untilCount(2);
        const live = [newEvent(), newEvent(), newEvent()];
        await append(stream('a'), [live[0]]);
        await append(stream('c'), [live[1]]);
        await append(stream('b'), [live[2]]);
        await recorder.untilCount(5);

        expect(recorder.ids).toEqual(ids([...rest, ...live]));
        expectStrictlyIncreasing(positions(recorder.batches.flat()));
      });

      it('applies the filter to catch-up and live events', async () => {
        const matching = () => newEvent('Paid');
        const before = [matching(), matching()];
        await append(stream('order-1'), [before[0]]);
        await append(stream('order-1'), [newEvent('Requested')]);
        await append(stream('payment-1'), [newEvent('Paid')]);
        await append(stream('order-2'), [before[1]]);
        const recorder = new Recorder();

        subscription = store.subscribeToAll(
          {
            after: start,
            filter: { streamNamePrefixes: [stream('order-')], eventTypes: ['Paid'] },
          },
          recorder.handler,
        );
        await recorder.untilCount(2);
        const after = [matching(), matching()];
        await append(stream('order-3'), [newEvent('Requested')]);
        await append(stream('order-3'), [after[0]]);
        await append(stream('payment-2'), [newEvent('Paid')]);
        await append(stream('order-4'), [after[1]]);
        await recorder.untilCount(4);

        expect(recorder.ids).toEqual(ids([...before, ...after]));
      });

      it('hands the handler at most maxBatchSize events at a time', async () => {
        const events = Array.from({ length: 7 }, () => newEvent());
        await append(stream('s'), events);
        const recorder = new Recorder();

        subscription = store.subscribeToAll({ after: start, maxBatchSize: 3 }, recorder.handler);
        await recorder.untilCount(7);

        expect(recorder.ids).toEqual(ids(events));
        for (const batch of recorder.batches) expect(batch.length).toBeLessThanOrEqual(3);
      });

      it('waits for the handler to finish before handing over the next batch', async () => {
        await append(stream('s'), [newEvent()]);
        const release = gate();
        const batches: RecordedEvent[][] = [];
        let running = 0;
        let mostRunningAtOnce = 0;

        subscription = store.subscribeToAll({ after: start }, async (events) => {
          batches.push(events);
          running += 1;
          mostRunningAtOnce = Math.max(mostRunningAtOnce, running);
          if (batches.length === 1) await release.opened;
          running -= 1;
        });
        await eventually(() => batches.length === 1, 'the first batch arrives');
        await append(stream('s'), [newEvent()]);
        await sleep(QUIET_PERIOD_MS);
        const batchesWhileBlocked = batches.length;
        release.open();
        await eventually(() => batches.length === 2, 'the second batch arrives');

        expect(batchesWhileBlocked).toBe(1);
        expect(mostRunningAtOnce).toBe(1);
      });

      it('stop() lets the batch in hand finish, then ends: done resolves and nothing more arrives', async () => {
        await append(stream('s'), [newEvent()]);
        const release = gate();
        const recorder = new Recorder();
        let handlerFinished = false;
        const sub = store.subscribeToAll({ after: start }, async (events) => {
          await recorder.handler(events);
          await release.opened;
          handlerFinished = true;
        });
        subscription = sub;
        await recorder.untilCount(1);
        await append(stream('s'), [newEvent()]);

        let stopped = false;
        const stopping = sub.stop().then(() => (stopped = true));
        await sleep(QUIET_PERIOD_MS);
        const stoppedWhileHandlerRan = stopped;
        release.open();
        await stopping;

        expect(stoppedWhileHandlerRan).toBe(false);
        expect(handlerFinished).toBe(true);
        await expect(sub.done).resolves.toBeUndefined();
        await append(stream('s'), [newEvent()]);
        await sleep(QUIET_PERIOD_MS);
        expect(recorder.batches).toHaveLength(1);
      });

      it('ends when the handler throws: done rejects with its error and nothing more arrives', async () => {
        await append(stream('s'), [newEvent()]);
        const failure = new Error('handler failed');
        let calls = 0;

        const sub = store.subscribeToAll({ after: start }, async () => {
          calls += 1;
          throw failure;
        });
        subscription = sub;

        await expect(sub.done).rejects.toBe(failure);
        await append(stream('s'), [newEvent()]);
        await sleep(QUIET_PERIOD_MS);
        expect(calls).toBe(1);
      });
    });

    describe('durability', () => {
      it('keeps every event across close and reopen, and continues each stream where it was', async () => {
        await append(stream('a'), [newEvent(), newEvent()], 'no_stream');
        await append(stream('b'), [newEvent()], 'no_stream');
        await append(stream('a'), [newEvent()], 1n);
        const before = await store.readAll({ after: start });

        await store.close();
        store = await opened.reopen();

        expect(await store.readAll({ after: start })).toEqual(before);
        const next = await append(stream('a'), [newEvent()], 2n);
        expect(next.nextExpectedRevision).toBe(3n);
        expect(next.position > before[before.length - 1].position).toBe(true);
        const [continued] = await store.readStream(stream('a'), { fromRevision: 3n });
        expect(continued.previousHash).toBe(before[3].hash);
        const error = await rejectionOf(append(stream('b'), [newEvent()], 'no_stream'));
        expect(error).toMatchObject({ actual: 0n });
      });

      it('rejects appends once closed', async () => {
        await store.close();

        await expect(append(stream('s'), [newEvent()])).rejects.toThrow();
      });
    });
  });
}
