/**
 * Bounded memory for the provider's health: observations older than a moment are merged, per
 * interval of time, into one counted observation per kind and rounded value. What is kept then
 * grows with the number of intervals and of distinct rounded values, not with the load. Pure.
 */
import type { Observation } from './provider-observations';

/** Durations below this many ms are kept exact (to the ms). */
export const EXACT_BELOW_MS = 256;
/** Width of a rounding step above EXACT_BELOW_MS: each step is 2% wider than the one before. */
const STEP = Math.log(1.02);
/**
 * The most a rounded duration differs from the measured one, relative to it: half a step (1%)
 * plus the rounding to whole ms (0.5 ms, at most 0.2% from EXACT_BELOW_MS on).
 */
export const ROUNDING_ERROR = 0.012;

/**
 * A duration rounded to the middle of its step, in whole ms; rounding it again changes nothing,
 * so observations compacted twice equal those compacted once.
 */
export function roundedMs(ms: number): number {
  const size = Math.abs(ms);
  if (size < EXACT_BELOW_MS) return Math.round(ms);
  return Math.sign(ms) * Math.round(Math.exp(Math.round(Math.log(size) / STEP) * STEP));
}

/** How many observations `observation` stands for. */
export function countOf(observation: Observation): number {
  return observation.count ?? 1;
}

/** What two observations must share to be merged: the kind, the cause or path, the values. */
function keyOf(observation: Observation): string {
  switch (observation.kind) {
    case 'answer':
    case 'webhook':
      return `${observation.kind}:${observation.ms}`;
    case 'no_answer':
      return `no_answer:${observation.cause}`;
    case 'lost':
      return 'lost';
    case 'check':
      return `check:${observation.rateLimited}`;
    case 'final':
      return `final:${observation.path}:${observation.ms}:${observation.msAfterTimeout}`;
  }
}

function rounded(observation: Observation): Observation {
  switch (observation.kind) {
    case 'answer':
    case 'webhook':
      return { ...observation, ms: roundedMs(observation.ms) };
    case 'final':
      return {
        ...observation,
        ms: roundedMs(observation.ms),
        msAfterTimeout:
          observation.msAfterTimeout === null ? null : roundedMs(observation.msAfterTimeout),
      };
    default:
      return observation;
  }
}

/**
 * The observations earlier than `before`, merged per interval of `intervalMs` (aligned on its
 * multiples) and key: each group is one observation at the group's latest time, counting all of
 * it, its durations rounded (`roundedMs`). Later ones are returned as they are. Counts, shares
 * and the interval each observation falls in are kept exactly; a window that starts inside an
 * interval counts the whole group or none of it, so a window's edge is exact to one interval.
 */
export function compactObservations(
  observations: readonly Observation[],
  before: number,
  intervalMs: number,
): Observation[] {
  const groups = new Map<string, Observation>();
  const later: Observation[] = [];
  for (const observation of observations) {
    if (observation.at >= before) {
      later.push(observation);
      continue;
    }
    const one = rounded(observation);
    const key = `${Math.floor(one.at / intervalMs)}:${keyOf(one)}`;
    const group = groups.get(key);
    groups.set(
      key,
      group
        ? { ...group, at: Math.max(group.at, one.at), count: countOf(group) + countOf(one) }
        : one,
    );
  }
  return [...[...groups.values()].sort((a, b) => a.at - b.at), ...later];
}
