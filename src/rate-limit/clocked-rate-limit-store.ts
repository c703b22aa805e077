import type { Clock } from '../shared/clock';

/** What @fastify/rate-limit asks of a store: count one more request for `key`. */
type IncrementCallback = (error: Error | null, result: { current: number; ttl: number }) => void;

interface Window {
  count: number;
  startedAtMs: number;
}

/**
 * The counters of @fastify/rate-limit kept in this process, timed by the injected clock (the
 * plugin's own memory store reads the system clock, which tests cannot move): a fixed window per
 * key. At most `capacity` keys are kept; the least recently counted is forgotten first, which
 * can only let its owner through sooner.
 */
export class ClockedRateLimitStore {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly capacity: number,
  ) {}

  incr(key: string, callback: IncrementCallback, windowMs: number): void {
    const now = this.clock.now().getTime();
    let window = this.windows.get(key);
    if (!window || window.startedAtMs + windowMs <= now) {
      window = { count: 0, startedAtMs: now };
    }
    window.count += 1;
    // Re-inserted, so that Map order is least recently counted first.
    this.windows.delete(key);
    this.windows.set(key, window);
    if (this.windows.size > this.capacity) {
      this.windows.delete(this.windows.keys().next().value!);
    }
    callback(null, { current: window.count, ttl: window.startedAtMs + windowMs - now });
  }

  /** Every route shares the counters: a limit is per caller, not per route. */
  child(): this {
    return this;
  }
}
