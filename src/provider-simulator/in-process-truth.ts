import type { StatusCheckOutcome, SubmissionOutcome } from '../provider/payment-provider.port';
import type { ProviderFaultClass, ProviderFaultCounts, ProviderFaultPlan } from './fault-plan';
import { GroundTruth, GroundTruthRecorder, TransactionTruth } from './ground-truth';
import type { ProviderRecord } from './provider-records';

/**
 * The in-process provider's ground truth: the HTTP simulator's (every received POST, webhook and
 * status check, in provider seconds since the provider started) plus what only an in-process
 * provider can know: what our side was answered, and calls that never reached the provider.
 */
export type InProcessGroundTruth = Omit<GroundTruth, 'transactions'> & {
  /** The injected clock's time at provider second 0, in epoch milliseconds. */
  startedAtMs: number;
  faultPlan: ProviderFaultPlan;
  faults: ProviderFaultCounts;
  /** When each status check the provider received arrived, in order: our budget's evidence. */
  statusCheckSeconds: number[];
  transactions: InProcessTransactionTruth[];
};

export type InProcessTransactionTruth = TransactionTruth & {
  /** What a status check would read now (null: 404). */
  record: RecordTruth | null;
  /** Every submit we made, in order, with what we were answered. */
  answers: SubmissionAnswerTruth[];
  /** Every status check we made, in order, received or not. */
  checks: StatusCheckTruth[];
};

export type RecordTruth = Pick<ProviderRecord, 'status' | 'writtenByAttempt' | 'visibleAtSeconds'>;

export type SubmissionAnswerTruth = {
  /** The provider's attempt number, null when the POST never reached it (an outage). */
  attempt: number | null;
  sentAtSeconds: number;
  /** Null while we are still waiting. */
  answeredAtSeconds: number | null;
  outcome: SubmissionOutcome | null;
  /** The fault classes that shaped this POST. */
  faults: ProviderFaultClass[];
};

export type StatusCheckTruth = {
  atSeconds: number;
  /** False when the check never reached the provider (an outage). */
  received: boolean;
  outcome: StatusCheckOutcome;
};

type Extras = { answers: SubmissionAnswerTruth[]; checks: StatusCheckTruth[] };

/** The HTTP simulator's recorder, extended with the answers and checks seen from our side. */
export class InProcessTruthRecorder {
  readonly received: GroundTruthRecorder;
  private readonly extras = new Map<string, Extras>();
  private readonly statusCheckSeconds: number[] = [];

  constructor(seed: number) {
    this.received = new GroundTruthRecorder(seed, 1);
  }

  /** Returns the live entry: the provider fills in the answer once it is given. */
  recordAnswer(id: string, answer: Omit<SubmissionAnswerTruth, 'answeredAtSeconds' | 'outcome'>) {
    const recorded: SubmissionAnswerTruth = { ...answer, answeredAtSeconds: null, outcome: null };
    this.extrasOf(id).answers.push(recorded);
    return recorded;
  }

  recordCheck(id: string, check: StatusCheckTruth): void {
    this.extrasOf(id).checks.push(check);
    if (check.received) this.statusCheckSeconds.push(check.atSeconds);
  }

  snapshot(
    nowSeconds: number,
    context: {
      startedAtMs: number;
      faultPlan: ProviderFaultPlan;
      faults: ProviderFaultCounts;
      recordOf: (id: string) => RecordTruth | null;
    },
  ): InProcessGroundTruth {
    const { transactions, ...received } = this.received.snapshot(nowSeconds);
    const byId = new Map(transactions.map((transaction) => [transaction.id, transaction]));
    // Ids only we saw (every call failed in an outage) are listed too, after the received ones.
    for (const id of this.extras.keys()) {
      if (!byId.has(id)) {
        byId.set(id, {
          id,
          submissions: [],
          webhooks: [],
          statusChecks: { atSeconds: [], found: 0, notFound: 0, rejected: 0 },
        });
      }
    }
    return structuredClone({
      ...received,
      startedAtMs: context.startedAtMs,
      faultPlan: context.faultPlan,
      faults: context.faults,
      statusCheckSeconds: this.statusCheckSeconds,
      transactions: [...byId.values()].map((transaction) => ({
        ...transaction,
        record: context.recordOf(transaction.id),
        answers: this.extras.get(transaction.id)?.answers ?? [],
        checks: this.extras.get(transaction.id)?.checks ?? [],
      })),
    });
  }

  private extrasOf(id: string): Extras {
    let extras = this.extras.get(id);
    if (!extras) {
      extras = { answers: [], checks: [] };
      this.extras.set(id, extras);
    }
    return extras;
  }
}
