import type { Random } from '../shared/random';

/** A stretch of provider time, in virtual milliseconds since the provider started. */
export type TimeWindow = { startMs: number; endMs: number };

export type MsRange = { min: number; max: number };

/** A window in which every status check is answered 429, with this Retry-After (null: none). */
export type RateLimitStorm = TimeWindow & { retryAfterSeconds: number | null };

/**
 * Which faults the in-process provider injects, and when: a plain value, so a simulation can
 * print it for a replay and pass it back in. A class is on when its entry is present; the empty
 * plan is the reference mix. Shares apply to each POST (or webhook) the class can affect.
 */
export type ProviderFaultPlan = {
  /** Every POST arriving inside a window is answered 504 (processed anyway or lost, as usual). */
  gatewayTimeouts?: { windows: TimeWindow[] };
  /** The provider is unreachable: submissions answer `ambiguous connection`, checks `error`. */
  outages?: { windows: TimeWindow[] };
  /** A share of 200 answers comes `extraMs` after our submit timeout, so we see `timeout`. */
  slowAnswers?: { share: number; extraMs: MsRange };
  rateLimitStorms?: { storms: RateLimitStorm[] };
  /** The share of 504s never processed, instead of the reference's half. */
  lostTransactions?: { lostShare: number };
  /** A share of webhooks is sent twice, the copy `gapMs` after the first. */
  duplicateWebhooks?: { share: number; gapMs: MsRange };
  /** A share of webhooks is held back until the next webhook due has been delivered. */
  reorderedWebhooks?: { share: number };
  /** A share of webhooks is sent `extraMs` later than drawn, long after the status is final. */
  lateWebhooks?: { share: number; extraMs: MsRange };
  /** A share of webhooks reports the opposite of the record's final status. */
  contradictingWebhooks?: { share: number };
};

export type ProviderFaultClass = keyof ProviderFaultPlan;

export const providerFaultClasses: readonly ProviderFaultClass[] = [
  'gatewayTimeouts',
  'outages',
  'slowAnswers',
  'rateLimitStorms',
  'lostTransactions',
  'duplicateWebhooks',
  'reorderedWebhooks',
  'lateWebhooks',
  'contradictingWebhooks',
];

/** How many times each class was injected: POSTs, checks or webhooks it changed. */
export type ProviderFaultCounts = Record<ProviderFaultClass, number>;

export function noFaultsCounted(): ProviderFaultCounts {
  return Object.fromEntries(providerFaultClasses.map((name) => [name, 0])) as ProviderFaultCounts;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/**
 * Draws a plan for a run of `durationMs` with `classes` on. Pure: the same draws give the same
 * plan. Windows are short against a run (seconds to minutes), one to three per class, so a run
 * sees the provider both healthy and faulty.
 */
export function drawProviderFaultPlan(
  random: Random,
  { durationMs, classes }: { durationMs: number; classes: readonly ProviderFaultClass[] },
): ProviderFaultPlan {
  const draw = (range: MsRange) => Math.round(range.min + (range.max - range.min) * random.next());
  const share = (min: number, max: number) => min + (max - min) * random.next();
  const windows = (length: MsRange): TimeWindow[] =>
    Array.from({ length: 1 + Math.floor(random.next() * 3) }, () => {
      const startMs = Math.floor(random.next() * durationMs);
      return { startMs, endMs: startMs + draw(length) };
    });
  const plan: ProviderFaultPlan = {};
  // A fixed order, whatever order `classes` lists them in, so a plan depends on the set alone.
  for (const name of providerFaultClasses.filter((candidate) => classes.includes(candidate))) {
    switch (name) {
      case 'gatewayTimeouts':
        plan.gatewayTimeouts = { windows: windows({ min: 30 * SECOND, max: 5 * MINUTE }) };
        break;
      case 'outages':
        plan.outages = { windows: windows({ min: 10 * SECOND, max: 2 * MINUTE }) };
        break;
      case 'slowAnswers':
        plan.slowAnswers = { share: share(0.05, 0.2), extraMs: { min: 1, max: 60 * SECOND } };
        break;
      case 'rateLimitStorms':
        plan.rateLimitStorms = {
          storms: windows({ min: 5 * SECOND, max: MINUTE }).map((window) => ({
            ...window,
            retryAfterSeconds: random.next() < 0.5 ? null : 1 + Math.floor(random.next() * 10),
          })),
        };
        break;
      case 'lostTransactions':
        plan.lostTransactions = { lostShare: share(0.75, 1) };
        break;
      case 'duplicateWebhooks':
        plan.duplicateWebhooks = { share: share(0.1, 0.3), gapMs: { min: 0, max: 5 * SECOND } };
        break;
      case 'reorderedWebhooks':
        plan.reorderedWebhooks = { share: share(0.1, 0.3) };
        break;
      case 'lateWebhooks':
        plan.lateWebhooks = {
          share: share(0.05, 0.2),
          extraMs: { min: 2 * MINUTE, max: 30 * MINUTE },
        };
        break;
      case 'contradictingWebhooks':
        plan.contradictingWebhooks = { share: share(0.02, 0.1) };
        break;
    }
  }
  return plan;
}

export function isWithin(windows: readonly TimeWindow[] | undefined, nowMs: number): boolean {
  return windows?.some((window) => window.startMs <= nowMs && nowMs < window.endMs) ?? false;
}
