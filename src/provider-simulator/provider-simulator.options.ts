import { Webhook } from 'standardwebhooks';
import { z } from 'zod';

export type FinalStatus = 'completed' | 'declined';
export type ProviderStatus = 'pending' | FinalStatus;

/** Outcomes a test can force for one POST instead of drawing them. */
export const forcedOutcomes = [
  'ok-completed',
  'ok-declined',
  'late-completed',
  'late-declined',
  'lost',
] as const;
export type ForcedOutcome = (typeof forcedOutcomes)[number];

/**
 * Webhook faults a test can script for one id (they apply to `ok` outcomes only: the reference
 * provider never sends a webhook after a 504). `duplicate` delivers the same message twice at the
 * same moment; `contradicting` reports the opposite of the status the POST answered.
 */
export const webhookBehaviours = ['none', 'once', 'duplicate', 'contradicting'] as const;
export type WebhookBehaviour = (typeof webhookBehaviours)[number];

/**
 * Per id: one forced outcome for every POST of it, or a list for its successive POSTs (1st, 2nd,
 * ...); POSTs beyond the end of a list are drawn.
 */
export type OutcomeScript = Record<string, ForcedOutcome | ForcedOutcome[]>;
export type WebhookScript = Record<string, WebhookBehaviour>;

export type SecondsRange = { min: number; max: number };

/**
 * Everything the simulator can vary. Times are in provider seconds, i.e. the reference provider's
 * own time, and are multiplied by `timeScale` to get real time (except where a name says `Ms`).
 */
export type ProviderSimulatorOptions = {
  /** Real seconds per provider second: 1 is the reference speed, 0.01 runs 100 times faster. */
  timeScale: number;
  /** Makes outcomes reproducible; when absent a random seed is chosen and reported in the truth. */
  seed?: number;
  /** Share of POSTs answered 504 after `timeoutDelaySeconds`. */
  p504: number;
  /** Share of 504s processed anyway: their record appears, already final, later. */
  lateAppearanceShare: number;
  /** Share of final statuses that are `completed` (the rest are `declined`). */
  completedShare: number;
  /** Share of 200 answers that are followed by one webhook. */
  webhookShare: number;
  /** Delay of a 200 answer, drawn uniformly. */
  responseDelaySeconds: SecondsRange;
  /** Delay of a 504 answer. */
  timeoutDelaySeconds: number;
  /** When a processed 504 appears, counted from the POST's arrival, drawn uniformly. */
  lateAppearanceSeconds: SecondsRange;
  /** When the webhook of a 200 is sent, counted from the POST's arrival, drawn uniformly. */
  webhookDelaySeconds: SecondsRange;
  /**
   * At most `requestsPerSecond` status checks per caller in any sliding provider second; the one
   * beyond it gets 429 and bans the caller for `banSeconds`. `null` disables the budget, like the
   * reference mock.
   */
  statusBudget: { requestsPerSecond: number; banSeconds: number } | null;
  /** Standard Webhooks secret (base64, optionally prefixed `whsec_`); absent: unsigned. */
  webhookSecret?: string;
  /** Extra deliveries after a non-2xx answer or a network error; the backoff doubles each time. */
  webhookRetries: { count: number; backoffSeconds: number };
  /** Real milliseconds to wait for a webhook receiver (a network safeguard, not scaled). */
  webhookDeliveryTimeoutMs: number;
  forceOutcomes: OutcomeScript;
  webhookBehaviour: WebhookScript;
};

/** The reference provider's behaviour, plus a status budget it announces but does not enforce. */
export const defaultSimulatorOptions: Readonly<ProviderSimulatorOptions> = Object.freeze({
  timeScale: 1,
  p504: 0.1,
  lateAppearanceShare: 0.5,
  completedShare: 2 / 3,
  webhookShare: 0.8,
  responseDelaySeconds: { min: 0.2, max: 10 },
  timeoutDelaySeconds: 30,
  lateAppearanceSeconds: { min: 30, max: 120 },
  webhookDelaySeconds: { min: 10, max: 30 },
  statusBudget: { requestsPerSecond: 10, banSeconds: 60 },
  webhookRetries: { count: 0, backoffSeconds: 5 },
  webhookDeliveryTimeoutMs: 10_000,
  forceOutcomes: {},
  webhookBehaviour: {},
});

const share = z
  .number({ error: 'must be a number from 0 to 1' })
  .min(0, { error: 'must be a number from 0 to 1' })
  .max(1, { error: 'must be a number from 0 to 1' });

const seconds = z
  .number({ error: 'must be a number of seconds, 0 or more' })
  .min(0, { error: 'must be a number of seconds, 0 or more' });

const secondsRange = z
  .object({ min: seconds, max: seconds })
  .refine((range) => range.min <= range.max, {
    error: 'must not be less than the matching minimum',
    path: ['max'],
  });

const wholeNumber = (minimum: number) =>
  z
    .number({ error: `must be a whole number, ${minimum} or more` })
    .int({ error: `must be a whole number, ${minimum} or more` })
    .min(minimum, { error: `must be a whole number, ${minimum} or more` });

function isUsableWebhookSecret(secret: string): boolean {
  try {
    new Webhook(secret);
    return true;
  } catch {
    return false;
  }
}

export const outcomeScriptSchema = z.record(
  z.string().min(1),
  z.union([z.enum(forcedOutcomes), z.array(z.enum(forcedOutcomes)).min(1)]),
);
export const webhookScriptSchema = z.record(z.string().min(1), z.enum(webhookBehaviours));

const timeScaleRule = {
  error: 'must be a number greater than 0 (1 = real time, 0.01 = 100 times faster)',
};

const optionsSchema = z.object({
  timeScale: z.number(timeScaleRule).positive(timeScaleRule),
  seed: z
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .optional(),
  p504: share,
  lateAppearanceShare: share,
  completedShare: share,
  webhookShare: share,
  responseDelaySeconds: secondsRange,
  timeoutDelaySeconds: seconds,
  lateAppearanceSeconds: secondsRange,
  webhookDelaySeconds: secondsRange,
  statusBudget: z.object({ requestsPerSecond: wholeNumber(1), banSeconds: seconds }).nullable(),
  webhookSecret: z
    .string()
    .refine(isUsableWebhookSecret, {
      error: 'must be a Standard Webhooks secret: a base64 key, optionally prefixed with whsec_',
    })
    .optional(),
  webhookRetries: z.object({ count: wholeNumber(0), backoffSeconds: seconds }),
  webhookDeliveryTimeoutMs: wholeNumber(1),
  forceOutcomes: outcomeScriptSchema,
  webhookBehaviour: webhookScriptSchema,
}) satisfies z.ZodType<ProviderSimulatorOptions>;

export type OptionProblem = { path: string; message: string };

export class SimulatorOptionsError extends Error {
  constructor(readonly problems: OptionProblem[]) {
    super(
      `Invalid provider simulator options:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
    );
    this.name = 'SimulatorOptionsError';
  }
}

/** The defaults overridden by every defined entry of `overrides`, validated. */
export function resolveSimulatorOptions(
  overrides: Partial<ProviderSimulatorOptions>,
): ProviderSimulatorOptions {
  const defined = Object.fromEntries(
    Object.entries(overrides).filter(([, value]) => value !== undefined),
  );
  return validateSimulatorOptions({ ...defaultSimulatorOptions, ...defined });
}

/** `candidate` as options, or a SimulatorOptionsError listing every problem by option path. */
export function validateSimulatorOptions(candidate: unknown): ProviderSimulatorOptions {
  const parsed = optionsSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new SimulatorOptionsError(
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  return parsed.data;
}
