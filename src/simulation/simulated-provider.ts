import type { PaymentProvider } from '../provider/payment-provider.port';
import {
  ProviderFaultClass,
  drawProviderFaultPlan,
  providerFaultClasses,
} from '../provider-simulator/fault-plan';
import { InProcessProvider } from '../provider-simulator/in-process-provider';
import type { InProcessGroundTruth } from '../provider-simulator/in-process-truth';
import { Clock } from '../shared/clock';
import { Random } from '../shared/random';
import { FaultClass, FaultCounts, FaultPlan } from './fault-plan';
import type { SubmissionFate, SubmissionTruth } from './invariants';

/** The provider's own fault classes under the simulation's names. */
const PROVIDER_FAULTS: Partial<Record<ProviderFaultClass, FaultClass>> = {
  gatewayTimeouts: 'provider-504s',
  outages: 'provider-outage',
  slowAnswers: 'provider-slow',
  rateLimitStorms: 'provider-429',
  lostTransactions: 'provider-lost',
  duplicateWebhooks: 'webhook-duplicate',
  reorderedWebhooks: 'webhook-reorder',
  lateWebhooks: 'webhook-late',
};

export interface SimulatedProvider {
  provider: PaymentProvider;
  /** What the provider did with each POST of an id, oldest first, by its ground truth. */
  truthOf: (providerId: string) => SubmissionTruth[];
  /** Adds the provider's injected faults to the run's counts. */
  countFaults(counts: FaultCounts): void;
  /** The provider's fault plan, for a failing seed's report. */
  describePlan(): string;
  /** True when the provider has nothing scheduled: no answer, record or webhook to come. */
  idle(): boolean;
  /** How many POSTs of an id the provider has received so far. */
  received: (providerId: string) => number;
}

/**
 * The in-process provider (reference protocol, ground truth) with the provider's fault classes of
 * the seed's plan on, drawn over the run. A contradicting webhook is the simulation's own (see
 * WebhookDelivery): the provider's would contradict a status the ledger may never learn
 * otherwise, which no integration could tell from the truth.
 */
export function openSimulatedProvider(options: {
  plan: FaultPlan;
  random: Random;
  clock: Clock;
  submitTimeoutMs: number;
  durationMs: number;
  deliver: (url: string, body: { id: string; status: string }) => Promise<number>;
}): SimulatedProvider {
  const classes = providerFaultClasses.filter((name) => {
    const fault = PROVIDER_FAULTS[name];
    return fault !== undefined && options.plan.has(fault);
  });
  const faultPlan = drawProviderFaultPlan(options.random, {
    durationMs: options.durationMs,
    classes,
  });
  const provider = new InProcessProvider({
    clock: options.clock,
    random: options.random,
    deliver: options.deliver,
    submitTimeoutMs: options.submitTimeoutMs,
    faultPlan,
  });
  let snapshot: { at: number; truth: InProcessGroundTruth } | null = null;
  const truth = (): InProcessGroundTruth => {
    const at = options.clock.now().getTime();
    if (snapshot?.at !== at) snapshot = { at, truth: provider.truth() };
    return snapshot.truth;
  };
  return {
    provider,
    truthOf: (providerId) => {
      const { startedAtMs, transactions } = truth();
      const transaction = transactions.find((candidate) => candidate.id === providerId);
      if (!transaction) return [];
      const last = transaction.submissions.length - 1;
      return transaction.submissions.map((submission, index) => {
        const { outcome } = submission;
        let fate: SubmissionFate;
        if (outcome.kind === 'lost') fate = 'lost';
        else if (index < last || submission.finalAtSeconds !== null) fate = outcome.status;
        else fate = 'pending';
        return { receivedAt: startedAtMs + submission.receivedAtSeconds * 1000, fate };
      });
    },
    countFaults(counts) {
      const injected = provider.faultCounts();
      for (const name of providerFaultClasses) {
        const fault = PROVIDER_FAULTS[name];
        for (let n = 0; fault !== undefined && n < injected[name]; n++) counts.count(fault);
      }
    },
    describePlan: () => JSON.stringify(faultPlan),
    idle: () => provider.idle(),
    received: (providerId) => provider.submissionsReceived(providerId),
  };
}
