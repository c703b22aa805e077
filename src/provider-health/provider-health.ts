/**
 * The provider's health as the ledger measured it: figures over a rolling window, the state
 * they put the provider in, and what to tell a customer about it. Pure: observations, the time
 * and the thresholds come in as arguments.
 */
import { countOf } from './observation-compaction';
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

/** A duration and how many observations measured it. */
interface Counted {
  ms: number;
  count: number;
}

/**
 * Nearest-rank percentiles of counted values: each value stands `count` times. Counted per
 * distinct value first: compacted observations share a few hundred rounded values, so the sort
 * is of those, not of every observation.
 */
function countedPercentiles(values: readonly Counted[]): Percentiles | null {
  const perValue = new Map<number, number>();
  let total = 0;
  for (const { ms, count } of values) {
    perValue.set(ms, (perValue.get(ms) ?? 0) + count);
    total += count;
  }
  if (total === 0) return null;
  const sorted = [...perValue].sort(([a], [b]) => a - b);
  const ranks = [50, 90, 95, 99].map((p) => Math.max(1, Math.ceil((p / 100) * total)));
  const found: number[] = [];
  let seen = 0;
  for (const [ms, count] of sorted) {
    seen += count;
    while (found.length < ranks.length && seen >= ranks[found.length]) found.push(ms);
  }
  const [p50, p90, p95, p99] = found;
  return { p50, p90, p95, p99 };
}

export function percentiles(values: readonly number[]): Percentiles | null {
  return countedPercentiles(values.map((ms) => ({ ms, count: 1 })));
}

/**
 * The figures of the observations in (now - windowMs, now]. One pass with plain loops: it reads
 * every observation kept, once per report.
 */
export function measureProviderHealth(
  observations: readonly Observation[],
  now: number,
  windowMs: number,
): ProviderHealthFigures {
  const answers: Counted[] = [];
  const webhooks: Counted[] = [];
  const finals: Record<FinalPath, Counted[]> = {
    answered: [],
    timed_out_then_found: [],
    lost_then_resubmitted: [],
  };
  const afterTimeout: Counted[] = [];
  const unanswered = { gateway: 0, own: 0, other: 0 };
  let answered = 0;
  let lostAttempts = 0;
  let statusChecks = 0;
  let rateLimitedChecks = 0;
  for (const o of observations) {
    if (!(o.at > now - windowMs && o.at <= now)) continue;
    const count = countOf(o);
    switch (o.kind) {
      case 'answer':
        answers.push({ ms: o.ms, count });
        answered += count;
        break;
      case 'no_answer':
        unanswered[o.cause] += count;
        break;
      case 'lost':
        lostAttempts += count;
        break;
      case 'webhook':
        webhooks.push({ ms: o.ms, count });
        break;
      case 'check':
        statusChecks += count;
        if (o.rateLimited) rateLimitedChecks += count;
        break;
      case 'final':
        finals[o.path].push({ ms: o.ms, count });
        if (o.msAfterTimeout !== null) afterTimeout.push({ ms: o.msAfterTimeout, count });
        break;
    }
  }
  const submissions = answered + unanswered.gateway + unanswered.own + unanswered.other;
  const share = (cause: 'gateway' | 'own') =>
    submissions === 0 ? 0 : unanswered[cause] / submissions;
  const byPath = Object.fromEntries(
    FINAL_PATHS.map((path) => [path, countedPercentiles(finals[path])]),
  ) as Record<FinalPath, Percentiles | null>;
  return {
    windowMs,
    submissions,
    answerLatencyMs: countedPercentiles(answers),
    gatewayTimeoutShare: share('gateway'),
    ownTimeoutShare: share('own'),
    lostAttempts,
    webhookDelayMs: countedPercentiles(webhooks),
    statusChecks,
    rateLimitedChecks,
    timeToFinalMs: {
      ...byPath,
      all: countedPercentiles(FINAL_PATHS.flatMap((path) => finals[path])),
    },
    finalAfterTimeoutMs: countedPercentiles(afterTimeout),
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
  const unanswered = observations
    .filter(
      (o) => o.kind === 'no_answer' && o.at <= now && (lastAnswer === null || o.at > lastAnswer),
    )
    .reduce((sum, o) => sum + countOf(o), 0);
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
