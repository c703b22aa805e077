import type { Outcome } from './outcome';
import type { FinalStatus } from './provider-simulator.options';
import { SlidingSecondCounter } from './status-budget';
import { isAccepted } from './webhook-sender';

/**
 * What really happened at the provider, for tests and chaos checks. Every time is in provider
 * seconds since the simulator started (or was last reset).
 */
export type GroundTruth = {
  seed: number;
  timeScale: number;
  nowSeconds: number;
  totals: {
    /** POSTs received; more than one per id means the client risked charging twice. */
    submissions: number;
    idsSubmitted: number;
    idsSubmittedMoreThanOnce: number;
    outcomes: Record<Outcome['kind'], number>;
    webhookDeliveries: { attempted: number; succeeded: number; failed: number };
    statusChecks: StatusCheckTotals;
  };
  /** Status checks per caller: `client:<x-client-id header>`, else `ip:<client IP>`. */
  callers: Record<string, StatusCheckTotals>;
  transactions: TransactionTruth[];
};

export type StatusCheckTotals = {
  received: number;
  /** Answered 429: over budget or banned. */
  rejected: number;
  bans: number;
  /** The most status checks received (refused ones included) in any one provider second. */
  maxInAnySecond: number;
};

export type TransactionTruth = {
  id: string;
  submissions: SubmissionTruth[];
  webhooks: WebhookDeliveryTruth[];
  statusChecks: { atSeconds: number[]; found: number; notFound: number; rejected: number };
};

export type SubmissionTruth = {
  /** 1 for the first POST of this id, 2 for the second... */
  attempt: number;
  receivedAtSeconds: number;
  webhookUrl: string;
  /** Whether a script forced the outcome or the webhook behaviour of this POST. */
  scripted: boolean;
  outcome: Outcome;
  respondedAtSeconds: number | null;
  responseStatusCode: 200 | 504 | null;
  /** When this POST's record became visible to status checks (null: never, so far). */
  visibleAtSeconds: number | null;
  /** When this POST's record became final for status checks (null: never, so far). */
  finalAtSeconds: number | null;
};

export type WebhookDeliveryTruth = {
  /** The POST (attempt) this webhook reports on. */
  attempt: number;
  /** The Standard Webhooks message id, shared by duplicates and retries of one message. */
  messageId: string;
  /** 1, or 2 for the second copy of a duplicated message. */
  copy: number;
  /** 1 for the first try, 2 for the first retry... */
  delivery: number;
  sentAtSeconds: number;
  status: FinalStatus;
  statusCode: number | null;
  error: string | null;
};

type CallerRecord = { totals: StatusCheckTotals; window: SlidingSecondCounter };

/** Accumulates the ground truth; `snapshot` hands out copies, so callers cannot alter it. */
export class GroundTruthRecorder {
  private readonly transactions = new Map<string, TransactionTruth>();
  private readonly outcomes: Record<Outcome['kind'], number> = { ok: 0, late: 0, lost: 0 };
  private readonly webhookDeliveries = { attempted: 0, succeeded: 0, failed: 0 };
  private readonly allCallers: CallerRecord = newCallerRecord();
  private readonly callers = new Map<string, CallerRecord>();
  private submissions = 0;

  constructor(
    private readonly seed: number,
    private readonly timeScale: number,
  ) {}

  submissionsOf(id: string): number {
    return this.transactions.get(id)?.submissions.length ?? 0;
  }

  /** Returns the live entry: the simulator fills in when it answered and when the record showed. */
  recordSubmission(
    id: string,
    submission: Pick<
      SubmissionTruth,
      'attempt' | 'receivedAtSeconds' | 'webhookUrl' | 'scripted' | 'outcome'
    >,
  ): SubmissionTruth {
    const recorded: SubmissionTruth = {
      ...submission,
      respondedAtSeconds: null,
      responseStatusCode: null,
      visibleAtSeconds: null,
      finalAtSeconds: null,
    };
    this.transaction(id).submissions.push(recorded);
    this.submissions += 1;
    this.outcomes[submission.outcome.kind] += 1;
    return recorded;
  }

  recordWebhookDelivery(id: string, delivery: WebhookDeliveryTruth): void {
    this.transaction(id).webhooks.push(delivery);
    this.webhookDeliveries.attempted += 1;
    this.webhookDeliveries[isAccepted(delivery) ? 'succeeded' : 'failed'] += 1;
  }

  recordStatusCheck(
    id: string,
    caller: string,
    atSeconds: number,
    answer: 'found' | 'notFound' | 'rejected',
    banStarted: boolean,
  ): void {
    const checks = this.transaction(id).statusChecks;
    checks.atSeconds.push(atSeconds);
    checks[answer] += 1;
    let callerRecord = this.callers.get(caller);
    if (!callerRecord) {
      callerRecord = newCallerRecord();
      this.callers.set(caller, callerRecord);
    }
    for (const { totals, window } of [this.allCallers, callerRecord]) {
      totals.received += 1;
      if (answer === 'rejected') totals.rejected += 1;
      if (banStarted) totals.bans += 1;
      // The busiest window of all ends at some check, so the largest count at a check is it.
      totals.maxInAnySecond = Math.max(totals.maxInAnySecond, window.add(atSeconds));
    }
  }

  transactionSnapshot(id: string): TransactionTruth | undefined {
    const transaction = this.transactions.get(id);
    return transaction && structuredClone(transaction);
  }

  snapshot(nowSeconds: number): GroundTruth {
    const transactions = [...this.transactions.values()];
    const submitted = transactions.filter((t) => t.submissions.length > 0);
    return structuredClone({
      seed: this.seed,
      timeScale: this.timeScale,
      nowSeconds,
      totals: {
        submissions: this.submissions,
        idsSubmitted: submitted.length,
        idsSubmittedMoreThanOnce: submitted.filter((t) => t.submissions.length > 1).length,
        outcomes: this.outcomes,
        webhookDeliveries: this.webhookDeliveries,
        statusChecks: this.allCallers.totals,
      },
      callers: Object.fromEntries(
        [...this.callers].map(([caller, record]) => [caller, record.totals]),
      ),
      transactions,
    });
  }

  private transaction(id: string): TransactionTruth {
    let transaction = this.transactions.get(id);
    if (!transaction) {
      transaction = {
        id,
        submissions: [],
        webhooks: [],
        statusChecks: { atSeconds: [], found: 0, notFound: 0, rejected: 0 },
      };
      this.transactions.set(id, transaction);
    }
    return transaction;
  }
}

function newCallerRecord(): CallerRecord {
  return {
    totals: { received: 0, rejected: 0, bans: 0, maxInAnySecond: 0 },
    window: new SlidingSecondCounter(),
  };
}
