/**
 * The provider's status-check budget that every instance on the same store shares: a token
 * bucket holding at most one token, slowed down by 429s and recovering with successful checks.
 */

export type BudgetDecision = { granted: true } | { granted: false; retryAt: number };

export interface BudgetSettings {
  /** Checks per second when the provider is happy. */
  ratePerSecond: number;
  /** Lowest rate the budget slows to after repeated 429s. */
  minRatePerSecond: number;
}

/** The shared budget as it stands at a moment, read without changing it. */
export interface BudgetReading {
  /** Checks per second in force: the configured rate, or less after 429s. */
  ratePerSecond: number;
  /** Tokens in the bucket (it holds one at most): 1 lets a check leave at once; 0 during a ban. */
  tokens: number;
  /** Epoch ms until which the provider told us to stop (every check refused); null when none. */
  blockedUntil: number | null;
  /** Epoch ms of the next check the budget would grant: the moment read, if a token is there. */
  nextCheckAt: number;
}

export abstract class StatusCheckBudget {
  /**
   * Takes one status check from the shared budget (a token bucket holding at most one token,
   * so checks are spaced at least 1/rate apart across every instance), or says when to retry.
   */
  abstract take(now: number, settings: BudgetSettings): Promise<BudgetDecision>;

  /** The provider said 429: halve the rate (down to the minimum) and pause until `until`. */
  abstract slowDown(now: number, until: number, settings: BudgetSettings): Promise<void>;

  /** A check went through: let the rate recover towards its configured value. */
  abstract recover(now: number, settings: BudgetSettings): Promise<void>;

  /** The budget as it stands at `now`, for operators: reading it changes nothing. */
  abstract state(now: number, settings: BudgetSettings): Promise<BudgetReading>;
}
