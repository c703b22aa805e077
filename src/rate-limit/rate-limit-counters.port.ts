/** One caller's requests counted by one instance since its last sync. */
export interface CallerDelta {
  caller: string;
  count: number;
}

/**
 * Request counters shared by every instance on the same store, per caller and fixed window.
 * A window is named by its start (epoch milliseconds from the injected clock, a multiple of its
 * length), so every instance counts into the same one. Instances count locally and add their
 * deltas now and then; the store only has to sum correctly under concurrent instances.
 */
export abstract class RateLimitCounters {
  /**
   * Adds each delta to its caller's total in the window, atomically per caller so that no
   * instance's increment is ever lost, and answers totals in that window: of the callers added,
   * and of every other caller whose total is at least `atLeast` (callers near or over their
   * limit, whom an instance must refuse before it has seen them itself). Windows that ended by
   * `windowStart` may be forgotten, and must be eventually.
   */
  abstract add(
    windowStart: number,
    windowMs: number,
    deltas: CallerDelta[],
    atLeast: number,
  ): Promise<Map<string, number>>;
}
