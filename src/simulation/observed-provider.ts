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
 * of an id is checked against the provider's truth about the first, and status checks are
 * counted in every sliding second across all nodes against the shared budget's rate.
 */
export class ObservedProvider extends PaymentProvider {
  private readonly checks = new SlidingSecondCounter();
  private busiestSecond = 0;
  private readonly submitted = new Set<string>();

  constructor(
    private readonly provider: PaymentProvider,
    private readonly truthOf: (providerId: string) => readonly SubmissionTruth[],
    private readonly clock: Clock,
    private readonly settings: { lateWindowMs: number; checksPerSecond: number },
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
    if (this.submitted.has(providerId)) {
      const violation = checkResubmission(
        providerId,
        this.truthOf(providerId),
        this.clock.now().getTime(),
        this.settings.lateWindowMs,
      );
      if (violation) this.violated(violation);
    }
    this.submitted.add(providerId);
    return this.provider.submit(submission);
  }

  checkStatus(providerId: string, sendBy: number): Promise<StatusCheckOutcome> {
    const now = this.clock.now().getTime();
    // Past its send deadline a check never leaves (the provider answers not_sent): not counted.
    if (now > sendBy) return this.provider.checkStatus(providerId, sendBy);
    const inWindow = this.checks.add(now / 1000);
    this.busiestSecond = Math.max(this.busiestSecond, inWindow);
    if (inWindow > Math.ceil(this.settings.checksPerSecond)) {
      this.violated({
        invariant: 'status-check-budget',
        detail: `${inWindow} status checks reached the provider within one second (budget ${this.settings.checksPerSecond}/s), the last for ${providerId}`,
      });
    }
    return this.provider.checkStatus(providerId, sendBy);
  }

  close(): Promise<void> {
    return this.provider.close();
  }
}
