import { CallerDelta, RateLimitCounters } from '../rate-limit-counters.port';

interface CountedWindow {
  windowEnd: number;
  counts: Map<string, number>;
}

/**
 * The counts themselves, shared by every instance opened on them as the processes of one machine
 * share `rate-limits.sqlite`: by window start, then caller.
 */
export class MemoryRateLimitStorage {
  readonly windows = new Map<number, CountedWindow>();
}

/**
 * The rate-limit counters in memory, for the simulator and fast tests (never a product default).
 * Same semantics as SqliteRateLimitCounters: each sync forgets the windows that have ended, adds
 * its deltas and answers the totals, in one synchronous step as SQLite does in one transaction.
 */
export class MemoryRateLimitCounters extends RateLimitCounters {
  private closed = false;

  constructor(private readonly storage: MemoryRateLimitStorage) {
    super();
  }

  override async add(
    windowStart: number,
    windowMs: number,
    deltas: CallerDelta[],
    atLeast: number,
  ): Promise<Map<string, number>> {
    if (this.closed) throw new Error('MemoryRateLimitCounters is closed');
    for (const [start, { windowEnd }] of this.storage.windows) {
      if (windowEnd <= windowStart) this.storage.windows.delete(start);
    }
    const window = this.storage.windows.get(windowStart) ?? {
      windowEnd: windowStart + windowMs,
      counts: new Map<string, number>(),
    };
    this.storage.windows.set(windowStart, window);
    const totals = new Map<string, number>();
    for (const { caller, count } of deltas) {
      const total = (window.counts.get(caller) ?? 0) + count;
      window.counts.set(caller, total);
      totals.set(caller, total);
    }
    for (const [caller, count] of window.counts) {
      if (count >= atLeast) totals.set(caller, count);
    }
    return totals;
  }

  /** Closes this instance only: the counts stay for the others. */
  close(): void {
    this.closed = true;
  }
}
