import {
  PaymentProvider,
  StatusCheckOutcome,
  Submission,
  SubmissionOutcome,
} from '../provider/payment-provider.port';
import { NodeFaults } from './node-faults';

/**
 * One simulated node's way out to the provider: its calls leave only while the node runs (a
 * stalled node's wait, a dead node's never), and a POST may find the node stalling just before
 * it leaves (NodeFaults.beforeSend). The provider behind it is shared by every node.
 */
export class FaultyProvider extends PaymentProvider {
  constructor(
    private readonly provider: PaymentProvider,
    private readonly faults: NodeFaults,
  ) {
    super();
  }

  async submit(submission: Submission): Promise<SubmissionOutcome> {
    await this.faults.beforeSend();
    return this.provider.submit(submission);
  }

  async checkStatus(providerId: string, sendBy: number): Promise<StatusCheckOutcome> {
    await this.faults.running();
    return this.provider.checkStatus(providerId, sendBy);
  }

  /** The provider is shared: a node going away does not close it. */
  async close(): Promise<void> {}
}
