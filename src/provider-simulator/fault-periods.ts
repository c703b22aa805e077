/**
 * Global fault periods of the HTTP simulator (`POST /_sim/faults`): stretches of provider time in
 * which every POST or status check meets the same fault. Written in the fault plan's vocabulary
 * (fault-plan.ts: all-504 windows, outages, 429 storms) plus slow periods, in which answers come
 * late but still come. Pure: a request's periods and the provider time in, windows out.
 */
import { z } from 'zod';
import { isWithin, ProviderFaultPlan, RateLimitStorm, TimeWindow } from './fault-plan';

/** A window in which every 200 answer comes `answerMs` after its POST. */
export type SlowWindow = TimeWindow & { answerMs: number };

/** The fault plan's global windows, and slow periods; times in provider ms since the start. */
export type SimulatorFaultPlan = Pick<
  ProviderFaultPlan,
  'gatewayTimeouts' | 'outages' | 'rateLimitStorms'
> & { slowPeriods?: { windows: SlowWindow[] } };

export const faultPeriodKinds = [
  'slowPeriods',
  'gatewayTimeouts',
  'outages',
  'rateLimitStorms',
] as const;

const seconds = z
  .number({ error: 'must be a number of provider seconds, 0 or more' })
  .min(0, { error: 'must be a number of provider seconds, 0 or more' });
const lasting = z
  .number({ error: 'must be a number of provider seconds, more than 0' })
  .positive({ error: 'must be a number of provider seconds, more than 0' });
const when = { startInSeconds: seconds.default(0), forSeconds: lasting };

const periodSchema = z.discriminatedUnion(
  'fault',
  [
    z.strictObject({ fault: z.literal('slowPeriods'), ...when, answerSeconds: seconds }),
    z.strictObject({ fault: z.literal('gatewayTimeouts'), ...when }),
    z.strictObject({ fault: z.literal('outages'), ...when }),
    z.strictObject({
      fault: z.literal('rateLimitStorms'),
      ...when,
      retryAfterSeconds: z
        .number({ error: 'must be a whole number of seconds, 0 or more, or null' })
        .int({ error: 'must be a whole number of seconds, 0 or more, or null' })
        .min(0, { error: 'must be a whole number of seconds, 0 or more, or null' })
        .nullable()
        .default(null),
    }),
  ],
  { error: `fault must be one of ${faultPeriodKinds.join(', ')}` },
);

/** At most this many periods at once: a script, not a log. */
export const MAX_FAULT_PERIODS = 100;

export const faultPeriodsSchema = z.strictObject(
  {
    periods: z
      .array(periodSchema)
      .max(MAX_FAULT_PERIODS, { error: `at most ${MAX_FAULT_PERIODS} periods` }),
  },
  { error: 'the body must be a JSON object { "periods": [...] }' },
);

/** As written by a client: the defaults (start now; no Retry-After) may be left out. */
export type FaultPeriodsRequest = z.input<typeof faultPeriodsSchema>;
export type FaultPeriods = z.output<typeof faultPeriodsSchema>;

/** The periods, counted from `nowMs` of provider time, as windows of a plan. */
export function faultPlanFrom({ periods }: FaultPeriods, nowMs: number): SimulatorFaultPlan {
  const plan: SimulatorFaultPlan = {};
  for (const period of periods) {
    const startMs = nowMs + period.startInSeconds * 1000;
    const window: TimeWindow = { startMs, endMs: startMs + period.forSeconds * 1000 };
    switch (period.fault) {
      case 'slowPeriods':
        (plan.slowPeriods ??= { windows: [] }).windows.push({
          ...window,
          answerMs: period.answerSeconds * 1000,
        });
        break;
      case 'gatewayTimeouts':
        (plan.gatewayTimeouts ??= { windows: [] }).windows.push(window);
        break;
      case 'outages':
        (plan.outages ??= { windows: [] }).windows.push(window);
        break;
      case 'rateLimitStorms':
        (plan.rateLimitStorms ??= { storms: [] }).storms.push({
          ...window,
          retryAfterSeconds: period.retryAfterSeconds,
        });
        break;
    }
  }
  return plan;
}

/** What the plan does to a POST or a status check arriving at `nowMs`. */
export function faultsAt(
  plan: SimulatorFaultPlan,
  nowMs: number,
): {
  outage: boolean;
  allGatewayTimeouts: boolean;
  slowAnswerMs: number | null;
  rateLimitStorm: RateLimitStorm | null;
} {
  const inside = (window: TimeWindow) => isWithin([window], nowMs);
  return {
    outage: isWithin(plan.outages?.windows, nowMs),
    allGatewayTimeouts: isWithin(plan.gatewayTimeouts?.windows, nowMs),
    slowAnswerMs: plan.slowPeriods?.windows.find(inside)?.answerMs ?? null,
    rateLimitStorm: plan.rateLimitStorms?.storms.find(inside) ?? null,
  };
}
