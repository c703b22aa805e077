import type { ProviderSimulatorOptions } from './provider-simulator.options';

type StatusBudget = NonNullable<ProviderSimulatorOptions['statusBudget']>;

/** Counts events in the sliding window (now - 1 s, now] of provider time. */
export class SlidingSecondCounter {
  private readonly times: number[] = [];

  /** Counts an event at `nowSeconds`; returns how many events the window ending now holds. */
  add(nowSeconds: number): number {
    while (this.times.length > 0 && this.times[0] <= nowSeconds - 1) this.times.shift();
    this.times.push(nowSeconds);
    return this.times.length;
  }

  clear(): void {
    this.times.length = 0;
  }
}

export type BudgetDecision =
  { admitted: true } | { admitted: false; retryAfterSeconds: number; banStarted: boolean };

/**
 * The provider's status-check budget per caller. A sliding window (rather than a token bucket)
 * makes the rule the same as the ground truth's "most checks in any one second": a client that
 * never exceeds the budget in any window is never banned. Checks refused during a ban do not
 * count, and a ban empties the window, so a caller starts afresh once its ban ends.
 */
export class StatusCheckBudget {
  private readonly callers = new Map<
    string,
    { recent: SlidingSecondCounter; bannedUntil: number }
  >();

  constructor(private readonly budget: StatusBudget) {}

  decide(caller: string, nowSeconds: number): BudgetDecision {
    let state = this.callers.get(caller);
    if (!state) {
      state = { recent: new SlidingSecondCounter(), bannedUntil: -Infinity };
      this.callers.set(caller, state);
    }
    if (nowSeconds < state.bannedUntil) {
      return {
        admitted: false,
        retryAfterSeconds: wholeSecondsUntil(state.bannedUntil - nowSeconds),
        banStarted: false,
      };
    }
    if (state.recent.add(nowSeconds) <= this.budget.requestsPerSecond) return { admitted: true };
    state.bannedUntil = nowSeconds + this.budget.banSeconds;
    state.recent.clear();
    return {
      admitted: false,
      retryAfterSeconds: wholeSecondsUntil(this.budget.banSeconds),
      banStarted: true,
    };
  }
}

/** Rounded up, so that a client honouring Retry-After never comes back inside the ban. */
export function wholeSecondsUntil(seconds: number): number {
  // Rounding to milliseconds first keeps float noise (60.0000001) from adding a whole second.
  return Math.ceil(Math.round(seconds * 1000) / 1000);
}
