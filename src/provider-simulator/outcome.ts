import type {
  FinalStatus,
  ForcedOutcome,
  ProviderSimulatorOptions,
  SecondsRange,
  WebhookBehaviour,
} from './provider-simulator.options';

/** Answered 200 after `responseDelaySeconds`; the record is `pending` until then. */
export type OkOutcome = {
  kind: 'ok';
  status: FinalStatus;
  responseDelaySeconds: number;
  webhook: PlannedWebhook | null;
};

/** Answered 504, yet processed: the record appears already final, with no webhook ever. */
export type LateOutcome = {
  kind: 'late';
  status: FinalStatus;
  responseDelaySeconds: number;
  appearsAfterSeconds: number;
};

/** Answered 504 and never processed: status checks say 404 forever. */
export type LostOutcome = { kind: 'lost'; responseDelaySeconds: number };

export type Outcome = OkOutcome | LateOutcome | LostOutcome;

/** `copies` deliveries of one message reporting `status`, sent `delaySeconds` after the POST. */
export type PlannedWebhook = { delaySeconds: number; status: FinalStatus; copies: 1 | 2 };

export type OutcomeOptions = Pick<
  ProviderSimulatorOptions,
  | 'p504'
  | 'lateAppearanceShare'
  | 'completedShare'
  | 'webhookShare'
  | 'responseDelaySeconds'
  | 'timeoutDelaySeconds'
  | 'lateAppearanceSeconds'
  | 'webhookDelaySeconds'
>;

/** What a test scripted for one POST; whatever is left out is drawn. */
export type SubmissionScript = { outcome?: ForcedOutcome; webhook?: WebhookBehaviour };

const forcedOutcomeMeaning: Record<ForcedOutcome, { kind: Outcome['kind']; status?: FinalStatus }> =
  {
    'ok-completed': { kind: 'ok', status: 'completed' },
    'ok-declined': { kind: 'ok', status: 'declined' },
    'late-completed': { kind: 'late', status: 'completed' },
    'late-declined': { kind: 'late', status: 'declined' },
    lost: { kind: 'lost' },
  };

/**
 * Draws how the provider will treat one POST. Pure: `random` yields uniform numbers in [0, 1).
 * Every draw is taken, used or not, so scripting one aspect never shifts the others.
 */
export function drawOutcome(
  random: () => number,
  options: OutcomeOptions,
  script: SubmissionScript = {},
): Outcome {
  const timesOut = random() < options.p504;
  const appearsLate = random() < options.lateAppearanceShare;
  const drawnStatus: FinalStatus = random() < options.completedShare ? 'completed' : 'declined';
  const sendsWebhook = random() < options.webhookShare;
  const responseDelaySeconds = within(options.responseDelaySeconds, random());
  const appearsAfterSeconds = within(options.lateAppearanceSeconds, random());
  const webhookDelaySeconds = within(options.webhookDelaySeconds, random());

  const forced = script.outcome === undefined ? undefined : forcedOutcomeMeaning[script.outcome];
  const kind = forced?.kind ?? (timesOut ? (appearsLate ? 'late' : 'lost') : 'ok');
  const status = forced?.status ?? drawnStatus;
  switch (kind) {
    case 'ok':
      return {
        kind,
        status,
        responseDelaySeconds,
        webhook: planWebhook(
          script.webhook ?? (sendsWebhook ? 'once' : 'none'),
          status,
          webhookDelaySeconds,
        ),
      };
    case 'late':
      return {
        kind,
        status,
        responseDelaySeconds: options.timeoutDelaySeconds,
        appearsAfterSeconds,
      };
    case 'lost':
      return { kind, responseDelaySeconds: options.timeoutDelaySeconds };
  }
}

/**
 * The same answer, sent `responseDelaySeconds` after the POST instead; the webhook moves with it,
 * so it still follows the final status as it does for a prompt answer.
 */
export function answeredAfter(outcome: OkOutcome, responseDelaySeconds: number): OkOutcome {
  const movedBy = responseDelaySeconds - outcome.responseDelaySeconds;
  return {
    ...outcome,
    responseDelaySeconds,
    webhook: outcome.webhook && {
      ...outcome.webhook,
      delaySeconds: Math.max(0, outcome.webhook.delaySeconds + movedBy),
    },
  };
}

/** The scripted outcome of the `attempt`-th POST (1-based) of an id, if any. */
export function scriptedOutcome(
  script: ForcedOutcome | ForcedOutcome[] | undefined,
  attempt: number,
): ForcedOutcome | undefined {
  return Array.isArray(script) ? script[attempt - 1] : script;
}

function planWebhook(
  behaviour: WebhookBehaviour,
  status: FinalStatus,
  delaySeconds: number,
): PlannedWebhook | null {
  switch (behaviour) {
    case 'none':
      return null;
    case 'once':
      return { delaySeconds, status, copies: 1 };
    case 'duplicate':
      return { delaySeconds, status, copies: 2 };
    case 'contradicting':
      return { delaySeconds, status: status === 'completed' ? 'declined' : 'completed', copies: 1 };
  }
}

function within(range: SecondsRange, unit: number): number {
  return range.min + (range.max - range.min) * unit;
}
