import {
  PaymentProvider,
  StatusCheckOutcome,
  Submission,
  SubmissionOutcome,
} from '../provider/payment-provider.port';
import { SlidingSecondCounter } from '../provider-simulator/status-budget';
import { Clock } from '../shared/clock';
import { Violation, checkResubmission } from './invariants';
import type { SubmissionTruth } from './invariants';

/**
 * The provider as every node reaches it, watched at the moment each call arrives: a second POST
 * of an id the provider received is checked against its truth about the earlier one, and status
 * checks are counted in every sliding second across all nodes against the shared budget's rate.
 * A call the adapter refuses to send (its send deadline passed) or that finds the provider
 * unreachable is no POST: the provider's count of what it received tells them apart.
 */
export class ObservedProvider extends PaymentProvider {
  private readonly checks = new SlidingSecondCounter();
  private busiestSecond = 0;

  constructor(
    private readonly provider: PaymentProvider,
    private readonly truthOf: (providerId: string) => readonly SubmissionTruth[],
    /** How many POSTs of an id the provider has received, up to this instant. */
    private readonly received: (providerId: string) => number,
    private readonly clock: Clock,
    private readonly settings: {
      lateWindowMs: number;
      checksPerSecond: number;
      maxChecksInAnySecond: number;
    },
    private readonly violated: (violation: Violation) => void,
  ) {
    super();
  }

  /** The most status checks the provider received in any one second. */
  get maxChecksInAnySecond(): number {
    return this.busiestSecond;
  }

  submit(submission: Submission): Promise<SubmissionOutcome> {
    const { providerId } = submission;
    const before = this.received(providerId);
    const earlier = before > 0 ? this.truthOf(providerId) : [];
    // The provider takes a POST in (or refuses it) as the call is made, before any answer.
    const answer = this.provider.submit(submission);
    if (before > 0 && this.received(providerId) > before) {
      const violation = checkResubmission(
        providerId,
        earlier,
        this.clock.now().getTime(),
        this.settings.lateWindowMs,
      );
      if (violation) this.violated(violation);
    }
    return answer;
  }

  checkStatus(providerId: string, sendBy: number): Promise<StatusCheckOutcome> {
    const now = this.clock.now().getTime();
    // Past its send deadline a check never leaves (the provider answers not_sent): not counted.
    if (now > sendBy) return this.provider.checkStatus(providerId, sendBy);
    const inWindow = this.checks.add(now / 1000);
    this.busiestSecond = Math.max(this.busiestSecond, inWindow);
    if (inWindow > this.settings.maxChecksInAnySecond) {
      this.violated({
        invariant: 'status-check-budget',
        detail: `${inWindow} status checks reached the provider within one second (budget ${this.settings.checksPerSecond}/s, at most ${this.settings.maxChecksInAnySecond} in any second), the last for ${providerId}`,
      });
    }
    return this.provider.checkStatus(providerId, sendBy);
  }

  close(): Promise<void> {
    return this.provider.close();
  }
}
