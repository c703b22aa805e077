import type { Readable } from 'node:stream';
import type { BatchHandler, RecordedEvent } from '../event-store.port';

/**
 * Hands a catch-up subscription to `$all` to a batch handler: batches of what the subscription
 * has already buffered (at most maxBatchSize), each awaited before the next is taken, and a new
 * subscription from the last position handed over whenever the current one fails. Independent of
 * the client library so that it can be tested with plain Node streams.
 */

/** What the follower needs of the client's catch-up subscription (a Node readable of events). */
export type SubscriptionSource = Readable & { unsubscribe(): Promise<void> };

export interface FollowOptions<Item> {
  /** Only events after this position are handed over; also where the first subscription starts. */
  after: bigint;
  maxBatchSize: number;
  /** Opens a catch-up subscription that delivers the events after `after`, in order. */
  subscribe: (after: bigint) => SubscriptionSource;
  /** The port's event for an item, or undefined to skip it. A throw ends the subscription. */
  select: (item: Item) => RecordedEvent | undefined;
  handler: BatchHandler;
  /** Aborted by stop(): the batch in hand finishes, then following ends. */
  stopping: AbortSignal;
  logger: { warn(message: string): void };
  retryDelayMs?: (failures: number) => number;
}

const FIRST_RETRY_DELAY_MS = 100;
const LONGEST_RETRY_DELAY_MS = 5_000;

/** Doubles from 100 ms up to 5 s, so a restarting server is not hammered, nor waited for long. */
export function retryDelayMs(failures: number): number {
  return Math.min(LONGEST_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, failures - 1));
}

type Dropped = { dropped: unknown };

/** Resolves once stopped; rejects with the handler's (or select's) error. */
export async function followAll<Item>(options: FollowOptions<Item>): Promise<void> {
  const { stopping, logger } = options;
  const delayFor = options.retryDelayMs ?? retryDelayMs;
  let after = options.after;
  let failures = 0;
  while (!stopping.aborted) {
    const reader = new SubscriptionReader<Item>(options.subscribe(after));
    let outcome: 'stopped' | Dropped;
    try {
      outcome = await deliver(reader, options, after, (delivered) => {
        after = delivered;
        failures = 0;
      });
    } finally {
      await reader.close();
    }
    if (outcome === 'stopped') return;
    failures += 1;
    const delay = delayFor(failures);
    logger.warn(
      `Subscription to $all dropped (${describeError(outcome.dropped)}); ` +
        `resubscribing after position ${after} in ${delay} ms`,
    );
    await sleep(delay, stopping);
  }
}

/** Skips anything at or before the last position accepted, so nothing is handed over twice. */
async function deliver<Item>(
  reader: SubscriptionReader<Item>,
  { maxBatchSize, select, handler, stopping }: FollowOptions<Item>,
  after: bigint,
  delivered: (position: bigint) => void,
): Promise<'stopped' | Dropped> {
  let highest = after;
  for (;;) {
    const next = await reader.nextBatch(maxBatchSize, stopping, (item) => {
      const event = select(item);
      if (event === undefined || event.position <= highest) return undefined;
      highest = event.position;
      return event;
    });
    if (next === 'stopped' || 'dropped' in next) return next;
    await handler(next.events);
    delivered(highest);
    if (stopping.aborted) return 'stopped';
  }
}

/**
 * Reads a subscription in paused mode: read() returns what is buffered without waiting, so a
 * batch is exactly what has arrived, and unread events hold the gRPC stream back (backpressure).
 */
class SubscriptionReader<Item> {
  private failure: { dropped: unknown } | undefined;
  private ended = false;
  /** Bumped on every event the reader waits for, so a wake-up is never lost between checks. */
  private changes = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly source: SubscriptionSource) {
    source.on('readable', this.changed);
    source.on('end', this.finished);
    source.on('close', this.finished);
    source.on('error', this.failed);
  }

  /** Events buffered before a failure are still handed over; the failure is reported after. */
  async nextBatch(
    maxBatchSize: number,
    stopping: AbortSignal,
    accept: (item: Item) => RecordedEvent | undefined,
  ): Promise<{ events: RecordedEvent[] } | Dropped | 'stopped'> {
    for (;;) {
      if (stopping.aborted) return 'stopped';
      const seen = this.changes;
      const events: RecordedEvent[] = [];
      while (events.length < maxBatchSize) {
        const item = this.source.read() as Item | null;
        if (item === null) break;
        const event = accept(item);
        if (event !== undefined) events.push(event);
      }
      if (events.length > 0) return { events };
      if (this.failure) return this.failure;
      if (this.ended) return { dropped: new Error('the server ended the subscription') };
      await this.nextChange(seen, stopping);
    }
  }

  async close(): Promise<void> {
    this.source.removeListener('readable', this.changed);
    this.source.removeListener('end', this.finished);
    this.source.removeListener('close', this.finished);
    this.source.removeListener('error', this.failed);
    // The client emits errors on the stream it returned; one without a listener would crash.
    this.source.on('error', () => undefined);
    // Unsubscribing cancels the gRPC call; a subscription that never opened has nothing to cancel.
    await this.source.unsubscribe().catch(() => undefined);
  }

  private readonly changed = () => {
    this.changes += 1;
    this.wake?.();
  };

  private readonly finished = () => {
    this.ended = true;
    this.changed();
  };

  private readonly failed = (error: unknown) => {
    this.failure ??= { dropped: error };
    this.changed();
  };

  private nextChange(seen: number, stopping: AbortSignal): Promise<void> {
    if (this.changes !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.wake = undefined;
        stopping.removeEventListener('abort', done);
        resolve();
      };
      this.wake = done;
      stopping.addEventListener('abort', done);
    });
  }
}

function sleep(ms: number, stopping: AbortSignal): Promise<void> {
  if (stopping.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopping.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopping.addEventListener('abort', done);
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
