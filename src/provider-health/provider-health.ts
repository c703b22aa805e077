/**
 * The provider's health as the ledger measured it: figures over a rolling window, the state
 * they put the provider in, and what to tell a customer about it. Pure: observations, the time
 * and the thresholds come in as arguments.
 */
import { FINAL_PATHS, FinalPath, Observation } from './provider-observations';

export type ProviderHealthState = 'normal' | 'slow' | 'degraded' | 'outage';
export const PROVIDER_HEALTH_STATES: readonly ProviderHealthState[] = [
  'normal',
  'slow',
  'degraded',
  'outage',
];

export interface Percentiles {
  p50: number;
  p90: number;
  /** Where the protocol's tail is long (a 504 takes minutes to settle), p90 promises too early. */
  p95: number;
  p99: number;
}

export interface ProviderHealthFigures {
  windowMs: number;
  /** Submissions that ended in the window, answered or not. */
  submissions: number;
  answerLatencyMs: Percentiles | null;
  /** Shares of `submissions`: the provider's 504s, our own timeouts. */
  gatewayTimeoutShare: number;
  ownTimeoutShare: number;
  lostAttempts: number;
  webhookDelayMs: Percentiles | null;
  statusChecks: number;
  rateLimitedChecks: number;
  /** From request to final status, per path; all paths together under `all`. */
  timeToFinalMs: Record<FinalPath | 'all', Percentiles | null>;
  /** From a transaction's first timeout to its final status (timed-out or lost paths). */
  finalAfterTimeoutMs: Percentiles | null;
}

export interface ProviderHealthThresholds {
  /** Fewer submissions than this in the short window say nothing: the state stays normal. */
  minSubmissions: number;
  /** `slow` from this p90 answer latency on. */
  slowAnswerP90Ms: number;
  /** `degraded` from this share of 504s plus own timeouts on. */
  degradedTimeoutShare: number;
  /** `outage` when no submission was answered for this long... */
  outageSilenceMs: number;
  /** ...while at least this many ended unanswered. */
  outageMinUnanswered: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

export function measureProviderHealth(
  observations: readonly Observation[],
  now: number,
  windowMs: number,
): ProviderHealthFigures {
  const inWindow = observations.filter((o) => o.at > now - windowMs && o.at <= now);
  const answers = inWindow.flatMap((o) => (o.kind === 'answer' ? [o.ms] : []));
  const unanswered = inWindow.flatMap((o) => (o.kind === 'no_answer' ? [o.cause] : []));
  const submissions = answers.length + unanswered.length;
  const share = (cause: string) =>
    submissions === 0 ? 0 : unanswered.filter((c) => c === cause).length / submissions;
  const finals = inWindow.flatMap((o) => (o.kind === 'final' ? [o] : []));
  const checks = inWindow.flatMap((o) => (o.kind === 'check' ? [o] : []));
  const byPath = Object.fromEntries(
    FINAL_PATHS.map((path) => [
      path,
      percentiles(finals.filter((f) => f.path === path).map((f) => f.ms)),
    ]),
  ) as Record<FinalPath, Percentiles | null>;
  return {
    windowMs,
    submissions,
    answerLatencyMs: percentiles(answers),
    gatewayTimeoutShare: share('gateway'),
    ownTimeoutShare: share('own'),
    lostAttempts: inWindow.filter((o) => o.kind === 'lost').length,
    webhookDelayMs: percentiles(inWindow.flatMap((o) => (o.kind === 'webhook' ? [o.ms] : []))),
    statusChecks: checks.length,
    rateLimitedChecks: checks.filter((c) => c.rateLimited).length,
    timeToFinalMs: { ...byPath, all: percentiles(finals.map((f) => f.ms)) },
    finalAfterTimeoutMs: percentiles(
      finals.flatMap((f) => (f.msAfterTimeout === null ? [] : [f.msAfterTimeout])),
    ),
  };
}

/**
 * Submissions that ended unanswered since the last answer, and how long that answer is ago
 * (null: none in what was kept).
 */
export function silenceOf(
  observations: readonly Observation[],
  now: number,
): { sinceLastAnswerMs: number | null; unanswered: number } {
  let lastAnswer: number | null = null;
  for (const o of observations) {
    if (o.kind === 'answer' && o.at <= now && (lastAnswer === null || o.at > lastAnswer)) {
      lastAnswer = o.at;
    }
  }
  const unanswered = observations.filter(
    (o) => o.kind === 'no_answer' && o.at <= now && (lastAnswer === null || o.at > lastAnswer),
  ).length;
  return { sinceLastAnswerMs: lastAnswer === null ? null : now - lastAnswer, unanswered };
}

/**
 * The worst state whose condition holds: outage (nothing answered for a while, and submissions
 * went unanswered meanwhile), degraded (timeouts above their share), slow (answers late).
 */
export function providerHealthState(
  recent: ProviderHealthFigures,
  silence: { sinceLastAnswerMs: number | null; unanswered: number },
  thresholds: ProviderHealthThresholds,
): ProviderHealthState {
  const silent =
    silence.sinceLastAnswerMs === null || silence.sinceLastAnswerMs >= thresholds.outageSilenceMs;
  if (silent && silence.unanswered >= thresholds.outageMinUnanswered) return 'outage';
  if (recent.submissions < thresholds.minSubmissions) return 'normal';
  if (recent.gatewayTimeoutShare + recent.ownTimeoutShare >= thresholds.degradedTimeoutShare) {
    return 'degraded';
  }
  if ((recent.answerLatencyMs?.p90 ?? 0) >= thresholds.slowAnswerP90Ms) return 'slow';
  return 'normal';
}

export type ProviderNoticeCode = 'provider_slow' | 'provider_degraded' | 'provider_outage';

export interface ProviderNotice {
  code: ProviderNoticeCode;
  message: string;
}

const NOTICE_OPENINGS: Record<Exclude<ProviderHealthState, 'normal'>, string> = {
  slow: 'The payment provider is slower than usual',
  degraded: 'The payment provider is very busy today and some payments take longer',
  outage:
    'The payment provider is not answering at the moment; payments will complete once it is back',
};

/**
 * What to tell a customer, null when all is normal. "Most payments" is the measured p90 of the
 * time to a final status, rounded up to whole minutes.
 */
export function providerNotice(
  state: ProviderHealthState,
  timeToFinalP90Ms: number | null,
): ProviderNotice | null {
  if (state === 'normal') return null;
  const opening = NOTICE_OPENINGS[state];
  const minutes =
    timeToFinalP90Ms === null ? null : Math.max(1, Math.ceil(timeToFinalP90Ms / 60_000));
  const message =
    state === 'outage' || minutes === null
      ? `${opening}.`
      : `${opening}; most payments finish within ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  return { code: `provider_${state}`, message };
}
