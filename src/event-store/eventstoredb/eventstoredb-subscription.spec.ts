import { PassThrough } from 'node:stream';
import type { RecordedEvent } from '../event-store.port';
import {
  followAll,
  FollowOptions,
  retryDelayMs,
  SubscriptionSource,
} from './eventstoredb-subscription';

/** Stands in for the client's catch-up subscription: a readable of objects that can be cancelled. */
class FakeSubscription {
  readonly stream = new PassThrough({ objectMode: true, highWaterMark: 4 });
  unsubscribed = false;
  readonly source: SubscriptionSource = Object.assign(this.stream, {
    unsubscribe: async () => {
      this.unsubscribed = true;
    },
  });

  send(...events: RecordedEvent[]): void {
    for (const event of events) this.stream.write(event);
  }

  fail(error: Error): void {
    // As the client does: it emits the gRPC error on the stream it returned, without destroying it.
    this.stream.emit('error', error);
  }
}

function event(position: bigint, type = 'Happened'): RecordedEvent {
  return {
    id: `event-${position}`,
    streamName: 's',
    type,
    data: {},
    metadata: {
      correlationId: 'c',
      causationId: 'c',
      actor: 'test',
      schemaVersion: 1,
      recordedAt: '2031-01-01T00:00:00.000Z',
    },
    revision: position,
    position,
    previousHash: null,
    hash: `hash-${position}`,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function eventually(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${description}`);
    await sleep(2);
  }
}

function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const positionsOf = (batches: RecordedEvent[][]) => batches.map((b) => b.map((e) => e.position));

/** A follower over fake subscriptions, recording what it hands over and where it subscribed. */
function follow(overrides: Partial<FollowOptions<RecordedEvent>> = {}) {
  const subscriptions: FakeSubscription[] = [];
  const subscribedAfter: bigint[] = [];
  const batches: RecordedEvent[][] = [];
  const warnings: string[] = [];
  const stopping = new AbortController();
  const done = followAll<RecordedEvent>({
    after: 0n,
    maxBatchSize: 100,
    subscribe: (after) => {
      subscribedAfter.push(after);
      const subscription = new FakeSubscription();
      subscriptions.push(subscription);
      return subscription.source;
    },
    select: (item) => item,
    handler: async (events) => {
      batches.push(events);
    },
    stopping: stopping.signal,
    logger: { warn: (message) => warnings.push(message) },
    retryDelayMs: () => 1,
    ...overrides,
  });
  done.catch(() => undefined);
  const current = () => subscriptions[subscriptions.length - 1];
  return { subscriptions, subscribedAfter, batches, warnings, stopping, done, current };
}

describe('followAll', () => {
  it('hands over what is buffered, in order, at most maxBatchSize at a time', async () => {
    const run = follow({ maxBatchSize: 3, after: 0n });
    run.current().send(...[1n, 2n, 3n, 4n, 5n, 6n, 7n].map((p) => event(p)));

    await eventually(() => run.batches.flat().length === 7, 'all 7 events are handed over');

    expect(positionsOf(run.batches).flat()).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
    for (const batch of run.batches) expect(batch.length).toBeLessThanOrEqual(3);
    run.stopping.abort();
    await run.done;
  });

  it('does not wait to fill a batch: it hands over what has arrived', async () => {
    const run = follow({ maxBatchSize: 100 });
    run.current().send(event(1n), event(2n));
    await eventually(() => run.batches.length === 1, 'the first batch arrives');

    run.current().send(event(3n));
    await eventually(() => run.batches.length === 2, 'the second batch arrives');

    expect(positionsOf(run.batches)).toEqual([[1n, 2n], [3n]]);
    run.stopping.abort();
    await run.done;
  });

  it('awaits each batch before taking the next', async () => {
    const release = gate();
    let running = 0;
    let mostRunningAtOnce = 0;
    const batches: RecordedEvent[][] = [];
    const run = follow({
      maxBatchSize: 2,
      handler: async (events) => {
        batches.push(events);
        running += 1;
        mostRunningAtOnce = Math.max(mostRunningAtOnce, running);
        if (batches.length === 1) await release.opened;
        running -= 1;
      },
    });
    run.current().send(event(1n));
    await eventually(() => batches.length === 1, 'the first batch arrives');

    run.current().send(event(2n), event(3n), event(4n));
    await sleep(30);
    const batchesWhileBlocked = batches.length;
    release.open();
    await eventually(() => batches.flat().length === 4, 'every event is handed over');

    expect(batchesWhileBlocked).toBe(1);
    expect(mostRunningAtOnce).toBe(1);
    run.stopping.abort();
    await run.done;
  });

  it('skips what select skips and anything at or before the start position', async () => {
    const run = follow({
      after: 2n,
      select: (item) => (item.type === 'Skipped' ? undefined : item),
    });
    run.current().send(event(1n), event(2n), event(3n, 'Skipped'), event(4n), event(4n), event(5n));

    await eventually(() => run.batches.flat().length === 2, 'the kept events are handed over');

    expect(positionsOf(run.batches).flat()).toEqual([4n, 5n]);
    expect(run.subscribedAfter).toEqual([2n]);
    run.stopping.abort();
    await run.done;
  });

  it('stops after the batch in hand, then unsubscribes and resolves', async () => {
    const release = gate();
    let handlerFinished = false;
    const batches: RecordedEvent[][] = [];
    const run = follow({
      handler: async (events) => {
        batches.push(events);
        await release.opened;
        handlerFinished = true;
      },
    });
    run.current().send(event(1n));
    await eventually(() => batches.length === 1, 'the first batch arrives');
    run.current().send(event(2n));

    run.stopping.abort();
    await sleep(20);
    expect(run.current().unsubscribed).toBe(false);
    release.open();
    await run.done;

    expect(handlerFinished).toBe(true);
    expect(batches).toHaveLength(1);
    expect(run.current().unsubscribed).toBe(true);
  });

  it('stops at once when no batch is in hand', async () => {
    const run = follow();
    await sleep(10);

    run.stopping.abort();
    await run.done;

    expect(run.current().unsubscribed).toBe(true);
    expect(run.subscriptions).toHaveLength(1);
  });

  it('ends with the handler error, without resubscribing', async () => {
    const failure = new Error('handler failed');
    let calls = 0;
    const run = follow({
      handler: async () => {
        calls += 1;
        throw failure;
      },
    });
    run.current().send(event(1n), event(2n));

    await expect(run.done).rejects.toBe(failure);
    run.current().send(event(3n));
    await sleep(20);
    expect(calls).toBe(1);
    expect(run.subscriptions).toHaveLength(1);
    expect(run.current().unsubscribed).toBe(true);
  });

  it('ends with the error of an event it cannot read, without resubscribing', async () => {
    const corrupt = new Error('not written by this event store');
    const run = follow({
      select: (item) => {
        if (item.position === 2n) throw corrupt;
        return item;
      },
    });
    run.current().send(event(1n), event(2n));

    await expect(run.done).rejects.toBe(corrupt);
    expect(run.subscriptions).toHaveLength(1);
  });

  it('resubscribes after a dropped subscription from the last position handed over, logging it', async () => {
    const run = follow();
    run.current().send(event(1n), event(2n));
    await eventually(() => run.batches.flat().length === 2, 'the first events are handed over');

    const first = run.current();
    first.fail(new Error('14 UNAVAILABLE: Connection dropped'));
    await eventually(() => run.subscriptions.length === 2, 'it resubscribes');
    // A new subscription may repeat what was handed over already; none of it is handed twice.
    run.current().send(event(2n), event(3n));
    await eventually(() => run.batches.flat().length === 3, 'the next event is handed over');

    expect(positionsOf(run.batches).flat()).toEqual([1n, 2n, 3n]);
    expect(run.subscribedAfter).toEqual([0n, 2n]);
    expect(first.unsubscribed).toBe(true);
    expect(run.warnings).toEqual([
      'Subscription to $all dropped (14 UNAVAILABLE: Connection dropped); ' +
        'resubscribing after position 2 in 1 ms',
    ]);
    expect(() => first.fail(new Error('late error on the old stream'))).not.toThrow();
    run.stopping.abort();
    await run.done;
  });

  it('hands over what arrived before the failure, then resubscribes after it', async () => {
    const release = gate();
    const batches: RecordedEvent[][] = [];
    const run = follow({
      maxBatchSize: 1,
      handler: async (events) => {
        batches.push(events);
        await release.opened;
      },
    });
    run.current().send(event(1n), event(2n), event(3n));
    await eventually(() => batches.length === 1, 'the first batch arrives');

    run.current().fail(new Error('server error'));
    release.open();
    await eventually(() => run.subscriptions.length === 2, 'it resubscribes');

    expect(positionsOf(batches)).toEqual([[1n], [2n], [3n]]);
    expect(run.subscribedAfter).toEqual([0n, 3n]);
    run.stopping.abort();
    await run.done;
  });

  it('resubscribes when the server ends the subscription', async () => {
    const run = follow();
    run.current().send(event(1n));
    await eventually(() => run.batches.length === 1, 'the first batch arrives');

    run.current().stream.end();
    await eventually(() => run.subscriptions.length === 2, 'it resubscribes');

    expect(run.subscribedAfter).toEqual([0n, 1n]);
    expect(run.warnings[0]).toMatch(/the server ended the subscription/);
    run.stopping.abort();
    await run.done;
  });

  it('backs off longer after each failure in a row, and starts over once events flow again', async () => {
    const failuresSeen: number[] = [];
    const run = follow({
      retryDelayMs: (failures) => {
        failuresSeen.push(failures);
        return 1;
      },
    });
    run.current().fail(new Error('down'));
    await eventually(() => run.subscriptions.length === 2, 'the first retry');
    run.current().fail(new Error('still down'));
    await eventually(() => run.subscriptions.length === 3, 'the second retry');
    run.current().send(event(1n));
    await eventually(() => run.batches.length === 1, 'events flow again');
    run.current().fail(new Error('down again'));
    await eventually(() => run.subscriptions.length === 4, 'the third retry');

    expect(failuresSeen).toEqual([1, 2, 1]);
    run.stopping.abort();
    await run.done;
  });

  it('stops while waiting to resubscribe', async () => {
    const run = follow({ retryDelayMs: () => 60_000 });
    run.current().fail(new Error('down'));
    await eventually(() => run.warnings.length === 1, 'the drop is logged');

    run.stopping.abort();
    await run.done;

    expect(run.subscriptions).toHaveLength(1);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 100 ms and stays at 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(retryDelayMs)).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000,
    ]);
  });
});
