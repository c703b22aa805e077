import { ReadModel } from '../transactions/read-model.port';
import { RetryParkedWorkCommand } from '../support/parked-work/retry-parked-work.command';
import { ResolveTransactionCommand } from '../support/resolve-transaction/resolve-transaction.command';
import { Random } from '../shared/random';
import type { SubmissionTruth } from './invariants';
import { SimulatedNode } from './simulated-node';
import { SimulationTrace } from './simulation-trace';

/** Far in the past: the queue lists open cases only, not transactions merely pending long. */
const CASES_ONLY = new Date(0).toISOString();
const PAGE = 100;

/**
 * Support staff at work: they go through the reconciliation queue (the read model, as the
 * support UI shows it) and resolve each case to what the provider really did, FAILED when it
 * has nothing, sometimes asking the provider first (a check under the shared budget); and they
 * put parked work back in rotation. Everything goes through the real handlers of a live node.
 */
export class SupportDesk {
  private rounds = 0;

  constructor(
    private readonly readModel: ReadModel,
    private readonly truthOf: (providerId: string) => readonly SubmissionTruth[],
    private readonly random: Random,
    private readonly trace: SimulationTrace,
  ) {}

  async work(node: SimulatedNode): Promise<void> {
    this.rounds += 1;
    const context = (id: string) => ({
      correlationId: `support-${this.rounds}-${id}`,
      causationId: `support-${this.rounds}-${id}`,
      actor: 'support:simulated',
    });
    const queue = await this.readModel.reconciliationQueue({
      pendingRequestedBefore: CASES_ONLY,
      limit: PAGE,
    });
    for (const item of queue.items) {
      const { state } = item.summary;
      if (!state.exists) continue;
      const { transactionId } = state;
      const last = this.truthOf(transactionId).at(-1);
      if (last?.fate === 'pending') continue;
      const status = last?.fate === 'completed' ? 'SUCCEEDED' : 'FAILED';
      const checkFirst = this.random.next() < 0.3;
      try {
        await node.resolve.execute(
          new ResolveTransactionCommand(
            transactionId,
            status,
            'resolved from the provider truth',
            checkFirst,
            context(transactionId),
          ),
        );
        this.trace.note('support', `resolved ${transactionId} ${status} on ${node.name}`);
      } catch (error) {
        this.trace.note('support', `could not resolve ${transactionId}: ${String(error)}`);
      }
    }
    for (const parked of await node.workQueue.parkedWork(PAGE)) {
      await node.retryParked.execute(
        new RetryParkedWorkCommand(parked.transactionId, parked.kind, 'support:simulated'),
      );
      this.trace.note('support', `retried parked ${parked.kind} of ${parked.transactionId}`);
    }
  }
}
