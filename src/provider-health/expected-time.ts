/**
 * When a pending transaction should be final: `likelyBy` (the measured median) and `expectedBy`
 * (the measured p90 of its stage; p95 of the whole time to final before any timeout), counted
 * from the moment its stage began, and never before the protocol lets it finish. Pure: the
 * state, the measured figures, the policy and the time come in.
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
  /** The percentile `expectedBy` reads. */
  tail: 'p90' | 'p95';
}

/**
 * Where the stage's clock starts and which measured figure predicts its end. Before any timeout
 * the request's own time to final (over every path) counts too: a submission still waiting may
 * yet end in a 504, and the answer latency alone would forget those. That distribution has two
 * humps (answers in seconds, a 504's settling in minutes, about a tenth of the reference mix), so
 * its p90 falls between them and a tenth of the transactions would outlive it: its p95 is read.
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
  return wholeFigure
    ? [stage, { from: requested, figure: wholeFigure, fallbackMs: 0, tail: 'p95' }]
    : [stage];
}

function stageEstimate(
  state: ExistingTransaction,
  figures: ProviderHealthFigures,
  policy: ProviderPolicy,
  now: number,
): Estimate {
  const attempt = currentAttempt(state);
  if (!attempt || attempt.outcome === 'lost') {
    return {
      from: now,
      figure: figures.answerLatencyMs,
      fallbackMs: policy.gatewayTimeoutMs,
      tail: 'p90',
    };
  }
  const started = Date.parse(attempt.startedAt);
  if (attempt.outcome === 'ambiguous' && attempt.settledAt !== null) {
    return {
      from: Date.parse(attempt.settledAt),
      figure: figures.finalAfterTimeoutMs,
      fallbackMs: policy.lateWindowMs + policy.lateWindowMarginMs,
      tail: 'p90',
    };
  }
  if (attempt.outcome === 'accepted') {
    return {
      from: started,
      figure: figures.webhookDelayMs,
      fallbackMs: policy.lateWindowMs,
      tail: 'p90',
    };
  }
  return {
    from: started,
    figure: figures.answerLatencyMs,
    fallbackMs: policy.gatewayTimeoutMs,
    tail: 'p90',
  };
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
  const latest = (key: (e: Estimate) => 'p50' | 'p90' | 'p95') =>
    Math.max(earliest, ...estimates.map((e) => e.from + (e.figure?.[key(e)] ?? e.fallbackMs)));
  const expectedBy = latest((e) => e.tail);
  const likelyBy = Math.min(
    expectedBy,
    latest(() => 'p50'),
  );
  return {
    likelyBy: new Date(likelyBy).toISOString(),
    expectedBy: new Date(expectedBy).toISOString(),
  };
}
