import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { PaymentProvider } from '../../provider/payment-provider.port';
import { WebhookUrls } from '../../provider-webhooks/webhook-urls';
import { Clock } from '../../shared/clock';
import { Random } from '../../shared/random';
import { TransactionFunds } from '../../transactions/transaction-funds';
import { TransactionStreams } from '../../transactions/transaction-streams';
import { isFinal } from '../../transactions/transaction.state';
import { SubmissionResult } from '../../transactions/transaction.commands';
import type { ClaimedWork } from '../work-queue.port';
import { WorkHandler, causationOf } from './work-handler';

/**
 * The customer's account holds the amount first (placed by the request route; placed here if it
 * stopped before), then the intent is recorded with it; only the worker whose append won calls
 * the provider, exactly once. A started attempt with no outcome means a worker died mid-call: it
 * is recorded as interrupted (ambiguous) and checked, never POSTed again; and a worker that
 * stalled past the intent's send deadline does not send at all.
 */
@Injectable()
export class SubmitHandler implements WorkHandler {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly funds: TransactionFunds,
    private readonly provider: PaymentProvider,
    private readonly webhookUrls: WebhookUrls,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly config: AppConfig,
  ) {}

  async perform(work: ClaimedWork): Promise<true> {
    const attempt = Number(work.payload.attempt);
    const { policy } = this.config.provider;
    const heldAmount = await this.heldAmount(work);
    if (heldAmount === 'refused') return true;
    const start = await this.streams.handle(
      work.transactionId,
      {
        type: 'StartSubmission',
        attempt,
        at: this.clock.now().toISOString(),
        policy,
        heldAmount,
      },
      causationOf(work),
    );
    const current = start.state.exists ? start.state.attempts.at(-1) : undefined;
    if (start.events.length === 0) {
      if (current?.number === attempt && current.outcome === 'in_flight') {
        await this.recordSubmission(work, attempt, {
          kind: 'ambiguous',
          reason: 'interrupted',
          detail: 'the worker making this attempt stopped before recording an answer',
        });
      }
      return true;
    }
    // Stalled past the send deadline (an overloaded or paused process): another worker may have
    // found this attempt unanswered and counted the late window from that deadline, so a POST
    // leaving now could arrive after the window and be charged twice. It is not sent (and the
    // adapter refuses to write it later than that, should it wait for a connection).
    if (!current?.sendBy) throw new Error(`attempt ${attempt} started without a send deadline`);
    const sendBy = Date.parse(current.sendBy);
    if (this.clock.now().getTime() > sendBy) {
      await this.recordSubmission(work, attempt, {
        kind: 'ambiguous',
        reason: 'interrupted',
        detail: 'not sent: the send deadline passed before the provider could be called',
      });
      return true;
    }
    const outcome = await this.provider.submit({
      providerId: work.transactionId,
      webhookUrl: this.webhookUrls.urlFor(work.transactionId),
      sendBy,
    });
    await this.recordSubmission(work, attempt, outcome);
    return true;
  }

  /**
   * The amount held for a transaction whose hold is not recorded yet (null when it is, or when
   * nothing is left to submit); 'refused' when the account refused it, which ended the
   * transaction.
   */
  private async heldAmount(work: ClaimedWork): Promise<number | null | 'refused'> {
    const { state } = await this.streams.load(work.transactionId);
    if (!state.exists || state.funds !== null || isFinal(state)) return null;
    const { outcome } = await this.funds.hold(state, causationOf(work));
    return outcome.held ? outcome.amount : 'refused';
  }

  private async recordSubmission(
    work: ClaimedWork,
    attempt: number,
    result: SubmissionResult,
  ): Promise<void> {
    await this.streams.handle(
      work.transactionId,
      {
        type: 'RecordSubmissionResult',
        attempt,
        result,
        at: this.clock.now().toISOString(),
        jitter: this.random.next(),
        policy: this.config.provider.policy,
      },
      causationOf(work),
    );
  }
}
