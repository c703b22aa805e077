/**
 * The provider's health as it went, for support's dashboard: the figures per time bucket, and
 * since when the provider is in the state it is in now. Pure: observations, times and
 * thresholds come in as arguments; the figures are those of `measureProviderHealth`.
 */
import {
  ProviderHealthState,
  ProviderHealthThresholds,
  measureProviderHealth,
  providerHealthState,
  silenceOf,
} from './provider-health';
import type { Observation } from './provider-observations';

export interface ProviderHealthBucket {
  /** The bucket's start (ms since the epoch); it holds the observations in [at, at + bucketMs). */
  at: number;
  submissions: number;
  /** p90 of the submissions answered in the bucket; null when none was. */
  answerLatencyP90Ms: number | null;
  /** Share of the bucket's submissions the provider answered with a 504. */
  gatewayTimeoutShare: number;
  statusChecks: number;
  rateLimitedChecks: number;
}

/** Start of the bucket holding `at`: buckets are aligned on multiples of `bucketMs`. */
export function bucketStart(at: number, bucketMs: number): number {
  return Math.floor(at / bucketMs) * bucketMs;
}

/** Every bucket start from the one holding `from` to the one holding `to`, empty ones included. */
export function bucketStarts(from: number, to: number, bucketMs: number): number[] {
  const starts: number[] = [];
  for (let at = bucketStart(from, bucketMs); at <= to; at += bucketMs) starts.push(at);
  return starts;
}

/** The health figures of each bucket between `from` and `to` (observations outside are left out). */
export function providerHealthPerBucket(
  observations: readonly Observation[],
  from: number,
  to: number,
  bucketMs: number,
): ProviderHealthBucket[] {
  const byBucket = new Map<number, Observation[]>();
  for (const observation of observations) {
    if (observation.at < from || observation.at > to) continue;
    const start = bucketStart(observation.at, bucketMs);
    const bucket = byBucket.get(start);
    if (bucket) bucket.push(observation);
    else byBucket.set(start, [observation]);
  }
  return bucketStarts(from, to, bucketMs).map((at) => {
    // measureProviderHealth counts (now - window, now]: ending 1 ms early gives [at, at + bucket).
    const figures = measureProviderHealth(byBucket.get(at) ?? [], at + bucketMs - 1, bucketMs);
    return {
      at,
      submissions: figures.submissions,
      answerLatencyP90Ms: figures.answerLatencyMs?.p90 ?? null,
      gatewayTimeoutShare: figures.gatewayTimeoutShare,
      statusChecks: figures.statusChecks,
      rateLimitedChecks: figures.rateLimitedChecks,
    };
  });
}

export interface ProviderHealthSpell {
  /** The state at `now`, as the service decides it (the short window and the silence). */
  state: ProviderHealthState;
  /**
   * The earliest evaluated time from which the state held without a break; null when it held
   * back to the oldest observation kept (it may be older than that).
   */
  since: number | null;
}

/** First index of `sorted` (by `at`) whose observation is later than `at`. */
function upperBound(sorted: readonly Observation[], at: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle].at <= at) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The state at any moment, as `providerHealthState` decides it from all that was observed by
 * then, but reading only the short window and the observations since the last answer: sorted
 * once, each moment costs a binary search and those two slices, not a pass over everything.
 */
function stateAtEachMoment(
  observations: readonly Observation[],
  shortWindowMs: number,
  thresholds: ProviderHealthThresholds,
): (at: number) => ProviderHealthState {
  const sorted = [...observations].sort((a, b) => a.at - b.at);
  /** Per position, the position of the last answer at or before it (-1: none). */
  const lastAnswer: number[] = [];
  sorted.forEach((o, index) => {
    lastAnswer.push(o.kind === 'answer' ? index : (lastAnswer[index - 1] ?? -1));
  });
  return (at) => {
    const end = upperBound(sorted, at);
    const windowStart = upperBound(sorted, at - shortWindowMs);
    const sinceLastAnswer = Math.max(0, lastAnswer[end - 1] ?? 0);
    return providerHealthState(
      measureProviderHealth(sorted.slice(windowStart, end), at, shortWindowMs),
      silenceOf(sorted.slice(sinceLastAnswer, end), at),
      thresholds,
    );
  };
}

/**
 * The state now and since when it holds: the state is evaluated at `now` and at `evaluations`
 * points evenly spaced back to the oldest observation (or `notBefore`, if later), the last one
 * exactly there; the spell is the unbroken run ending now. A bounded number of evaluations
 * keeps one request's cost bounded whatever the window; `since` is exact to one step.
 */
export function providerHealthSpell(
  observations: readonly Observation[],
  now: number,
  notBefore: number,
  shortWindowMs: number,
  thresholds: ProviderHealthThresholds,
  evaluations: number,
): ProviderHealthSpell {
  const stateAt = stateAtEachMoment(observations, shortWindowMs, thresholds);
  const state = stateAt(now);
  const oldest = Math.max(
    notBefore,
    observations.reduce((min, o) => Math.min(min, o.at), Infinity),
  );
  if (!(oldest < now)) return { state, since: null };
  const stepMs = Math.max(1, Math.ceil((now - oldest) / evaluations));
  let since = now;
  for (let at = now - stepMs; since > oldest; at -= stepMs) {
    const point = Math.max(at, oldest);
    if (stateAt(point) !== state) return { state, since };
    since = point;
  }
  return { state, since: null };
}
