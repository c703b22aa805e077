import { assertEpochMs } from '../../shared/argument-checks';
import { assertBudgetSettings } from './budget-arguments';
import type { BudgetDecision, BudgetReading, BudgetSettings } from './status-check-budget.port';

/**
 * The functional core of the status-check budget shared by every instance: a token bucket
 * holding at most one token, slowed down by 429s and recovering with successful checks. The
 * budget adapters only load and store BudgetState around the operations at the end (BudgetStep).
 */

/** Each successful status check gives back this share of the configured rate after a slowdown. */
export const RECOVERY_STEP = 0.1;

/**
 * Float noise ignored when rounding the next token's time up to whole milliseconds: a rate
 * recovered to 1.9999999999999998 puts it 500.00000000000006 ms after a grant, which means 500.
 */
export const BUDGET_EPSILON_MS = 1e-6;

/** The budget row: `tokens` held at `updatedAt`, refilling at `rate` per second. */
export interface BudgetState {
  tokens: number;
  updatedAt: number;
  rate: number;
  /** Epoch ms until which every check is refused (the provider's ban); 0 when none. */
  blockedUntil: number;
}

export function fullBudget(now: number, settings: BudgetSettings): BudgetState {
  return { tokens: 1, updatedAt: now, rate: settings.ratePerSecond, blockedUntil: 0 };
}

/** The state brought forward to `now`: tokens refilled up to the capacity of one. */
export function refill(state: BudgetState, now: number, settings: BudgetSettings): BudgetState {
  // Settings may have changed since the row was written (a restart with new configuration).
  const rate = Math.min(Math.max(state.rate, settings.minRatePerSecond), settings.ratePerSecond);
  // Instances' clocks may disagree slightly: the bucket's time never runs backwards.
  const at = Math.max(now, state.updatedAt);
  const tokens = Math.min(1, state.tokens + ((at - state.updatedAt) * rate) / 1000);
  return { ...state, tokens, updatedAt: at, rate };
}

/** When the bucket, refilled to `state.updatedAt`, holds a whole token again. */
export function tokenAvailableAt(state: BudgetState): number {
  return state.updatedAt + ((1 - state.tokens) * 1000) / state.rate;
}

/**
 * One budget operation: from the stored row (absent until first written), its result and the
 * state to store, if any.
 */
export type BudgetStep<T> = (stored: BudgetState | undefined) => {
  result: T;
  next?: BudgetState | null;
};

/** When takeToken at or after `state.updatedAt` grants the next check, in whole milliseconds. */
function nextGrantAt(state: BudgetState): number {
  // Grants and retryAt both follow from this one whole-millisecond time, so they always agree.
  return Math.ceil(tokenAvailableAt(state) - BUDGET_EPSILON_MS);
}

/** Returns the decision and, when it changes the bucket, the state to store. */
export function takeToken(
  stored: BudgetState,
  now: number,
  settings: BudgetSettings,
): { decision: BudgetDecision; next?: BudgetState } {
  if (now < stored.blockedUntil) {
    return { decision: { granted: false, retryAt: stored.blockedUntil } };
  }
  const state = refill(stored, now, settings);
  const nextTokenAt = nextGrantAt(state);
  if (now < nextTokenAt) {
    // A refusal stores nothing: polling often costs no write.
    return { decision: { granted: false, retryAt: nextTokenAt } };
  }
  return { decision: { granted: true }, next: { ...state, tokens: 0 } };
}

/**
 * A 429 halves the rate once per ban: instances whose checks were already in flight report the
 * same ban, and those reports arrive while it is on, so they only extend it. The ban ends with one
 * token ready, so the first check is allowed at `until`.
 */
export function slowDownBudget(
  stored: BudgetState,
  now: number,
  until: number,
  settings: BudgetSettings,
): BudgetState {
  const state = refill(stored, now, settings);
  const alreadyBlocked = now < state.blockedUntil;
  const rate = alreadyBlocked ? state.rate : Math.max(settings.minRatePerSecond, state.rate / 2);
  const blockedUntil = Math.max(state.blockedUntil, until);
  return { tokens: 1, updatedAt: blockedUntil, rate, blockedUntil };
}

/**
 * Each successful check raises the rate by RECOVERY_STEP of the configured rate, up to it: from
 * half the rate, five successes restore it. Returns null when there is nothing to change: the
 * rate is already the configured one, or a ban is on (a check sent before it does not end it).
 */
export function recoverBudget(
  stored: BudgetState,
  now: number,
  settings: BudgetSettings,
): BudgetState | null {
  if (now < stored.blockedUntil) return null;
  const state = refill(stored, now, settings);
  const configured = settings.ratePerSecond;
  if (state.rate >= configured) return null;
  return { ...state, rate: Math.min(configured, state.rate + configured * RECOVERY_STEP) };
}

/**
 * The budget as takeToken would find it at `now`: a check asked for at `now` is granted exactly
 * when `nextCheckAt` is `now`. During a ban the bucket holds no token for anyone.
 */
export function readBudget(
  stored: BudgetState,
  now: number,
  settings: BudgetSettings,
): BudgetReading {
  const state = refill(stored, now, settings);
  if (now < stored.blockedUntil) {
    const { rate, blockedUntil } = state;
    return { ratePerSecond: rate, tokens: 0, blockedUntil, nextCheckAt: blockedUntil };
  }
  return {
    ratePerSecond: state.rate,
    tokens: state.tokens,
    blockedUntil: null,
    nextCheckAt: Math.max(now, nextGrantAt(state)),
  };
}

/**
 * The port's operations as steps on the stored state (absent until first written). Each
 * checks its arguments when made, so an adapter refuses bad ones before touching the store.
 */
export function takeStep(now: number, settings: BudgetSettings): BudgetStep<BudgetDecision> {
  assertEpochMs('now', now);
  assertBudgetSettings(settings);
  return (stored) => {
    const { decision, next } = takeToken(stored ?? fullBudget(now, settings), now, settings);
    return { result: decision, next };
  };
}

export function slowDownStep(
  now: number,
  until: number,
  settings: BudgetSettings,
): BudgetStep<void> {
  assertEpochMs('now', now);
  assertEpochMs('until', until);
  assertBudgetSettings(settings);
  return (stored) => ({
    result: undefined,
    next: slowDownBudget(stored ?? fullBudget(now, settings), now, until, settings),
  });
}

/** Reads the budget; stores nothing. */
export function stateStep(now: number, settings: BudgetSettings): BudgetStep<BudgetReading> {
  assertEpochMs('now', now);
  assertBudgetSettings(settings);
  return (stored) => ({ result: readBudget(stored ?? fullBudget(now, settings), now, settings) });
}

export function recoverStep(now: number, settings: BudgetSettings): BudgetStep<void> {
  assertEpochMs('now', now);
  assertBudgetSettings(settings);
  return (stored) => ({
    result: undefined,
    // No state yet means the budget was never slowed down: nothing to recover.
    next: stored && recoverBudget(stored, now, settings),
  });
}
