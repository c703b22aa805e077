/**
 * When a pending transaction should be final: `likelyBy` (the measured median) and `expectedBy`
 * (the measured p90), counted from the moment its stage began, and never before the protocol
 * lets it finish. Pure: the state, the measured figures, the policy and the time come in.
 */
import type { ProviderPolicy } from '../transactions/transaction.commands';
import type { ExistingTransaction } from '../transactions/transaction.state';
import { currentAttempt } from '../transactions/transaction.state';
import type { Percentiles, ProviderHealthFigures } from './provider-health';

export interface ExpectedTime {
  likelyBy: string;
  expectedBy: string;
}

/**
 * The earliest moment the protocol lets the transaction become final. An attempt with an unknown
 * outcome is settled by a status check (the reference provider sends no webhook after a 504),
 * and the first check is due `checkBaseDelayMs` after the timeout at the soonest.
 */
export function earliestFinal(
  state: ExistingTransaction,
  policy: ProviderPolicy,
  now: number,
): number {
  const attempt = currentAttempt(state);
  if (attempt?.outcome === 'ambiguous' && attempt.settledAt !== null) {
    const firstCheck = Date.parse(attempt.settledAt) + policy.checkBaseDelayMs;
    const dueCheck = state.nextCheck ? Date.parse(state.nextCheck.dueAt) : firstCheck;
    return Math.max(now, firstCheck, dueCheck);
  }
  return now;
}

interface Estimate {
  from: number;
  figure: Percentiles | null;
  fallbackMs: number;
}

/**
 * Where the stage's clock starts and which measured figure predicts its end. Before any timeout
 * the request's own time to final (over every path) counts too: a submission still waiting may
 * yet end in a 504, and the answer latency alone would forget those.
 */
function stageEstimates(
  state: ExistingTransaction,
  figures: ProviderHealthFigures,
  policy: ProviderPolicy,
  now: number,
): Estimate[] {
  const stage = stageEstimate(state, figures, policy, now);
  const attempt = currentAttempt(state);
  if (attempt?.outcome === 'ambiguous') return [stage];
  const requested = Date.parse(state.requestedAt);
  const path = attempt?.outcome === 'lost' ? 'lost_then_resubmitted' : 'all';
  const wholeFigure = figures.timeToFinalMs[path];
  return wholeFigure ? [stage, { from: requested, figure: wholeFigure, fallbackMs: 0 }] : [stage];
}

function stageEstimate(
  state: ExistingTransaction,
  figures: ProviderHealthFigures,
  policy: ProviderPolicy,
  now: number,
): Estimate {
  const attempt = currentAttempt(state);
  if (!attempt || attempt.outcome === 'lost') {
    return { from: now, figure: figures.answerLatencyMs, fallbackMs: policy.gatewayTimeoutMs };
  }
  const started = Date.parse(attempt.startedAt);
  if (attempt.outcome === 'ambiguous' && attempt.settledAt !== null) {
    return {
      from: Date.parse(attempt.settledAt),
      figure: figures.finalAfterTimeoutMs,
      fallbackMs: policy.lateWindowMs + policy.lateWindowMarginMs,
    };
  }
  if (attempt.outcome === 'accepted') {
    return { from: started, figure: figures.webhookDelayMs, fallbackMs: policy.lateWindowMs };
  }
  return { from: started, figure: figures.answerLatencyMs, fallbackMs: policy.gatewayTimeoutMs };
}

/** Null once final, and while support has the case: then no figure can say when. */
export function expectedTime(
  state: ExistingTransaction,
  figures: ProviderHealthFigures,
  policy: ProviderPolicy,
  now: number,
): ExpectedTime | null {
  if (state.status !== 'PENDING' || state.reconciliation !== null) return null;
  const estimates = stageEstimates(state, figures, policy, now);
  const earliest = earliestFinal(state, policy, now);
  const latest = (key: 'p50' | 'p90') =>
    Math.max(earliest, ...estimates.map((e) => e.from + (e.figure?.[key] ?? e.fallbackMs)));
  const expectedBy = latest('p90');
  const likelyBy = Math.min(expectedBy, latest('p50'));
  return {
    likelyBy: new Date(likelyBy).toISOString(),
    expectedBy: new Date(expectedBy).toISOString(),
  };
}
