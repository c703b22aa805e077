import type { Subscription, SubscribeToAllOptions } from './event-store.port';

const DEFAULT_MAX_BATCH_SIZE = 1000;

/** The batch size a subscription asked for, checked. */
export function maxBatchSizeOf(options: SubscribeToAllOptions): number {
  const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
  }
  return maxBatchSize;
}

/**
 * Runs `deliver` as a Subscription kept in `open` until it ends, so that the store can stop every
 * subscription when it closes. `deliver` stops when its signal aborts.
 */
export function startSubscription(
  deliver: (stopping: AbortSignal) => Promise<void>,
  open: Set<Subscription>,
): Subscription {
  const stopping = new AbortController();
  const done = deliver(stopping.signal);
  // The error reaches whoever awaits `done`; this keeps a subscriber that only ever calls
  // stop() from crashing the process with an unhandled rejection.
  done.catch(() => undefined);
  const subscription: Subscription = {
    done,
    stop: async () => {
      stopping.abort();
      await done.catch(() => undefined);
    },
  };
  open.add(subscription);
  const forget = () => open.delete(subscription);
  done.then(forget, forget);
  return subscription;
}
