import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { PaymentProvider } from '../../provider/payment-provider.port';
import { WebhookUrls } from '../../provider-webhooks/webhook-urls';
import { Clock } from '../../shared/clock';
import { Random } from '../../shared/random';
import { TransactionStreams } from '../../transactions/transaction-streams';
import { SubmissionResult } from '../../transactions/transaction.commands';
import type { ClaimedWork } from '../work-queue.port';
import { WorkHandler, causationOf } from './work-handler';

/**
 * The intent is recorded first; only the worker whose append won calls the provider, exactly
 * once. A started attempt with no outcome means a worker died mid-call: it is recorded as
 * interrupted (ambiguous) and checked, never POSTed again.
 */
@Injectable()
export class SubmitHandler implements WorkHandler {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly provider: PaymentProvider,
    private readonly webhookUrls: WebhookUrls,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly config: AppConfig,
  ) {}

  async perform(work: ClaimedWork): Promise<true> {
    const attempt = Number(work.payload.attempt);
    const { policy } = this.config.provider;
    const start = await this.streams.handle(
      work.transactionId,
      { type: 'StartSubmission', attempt, at: this.clock.now().toISOString(), policy },
      causationOf(work),
    );
    if (start.events.length === 0) {
      const current = start.state.exists ? start.state.attempts.at(-1) : undefined;
      if (current?.number === attempt && current.outcome === 'in_flight') {
        await this.recordSubmission(work, attempt, {
          kind: 'ambiguous',
          reason: 'interrupted',
          detail: 'the worker making this attempt stopped before recording an answer',
        });
      }
      return true;
    }
    const outcome = await this.provider.submit({
      providerId: work.transactionId,
      webhookUrl: this.webhookUrls.urlFor(work.transactionId),
    });
    await this.recordSubmission(work, attempt, outcome);
    return true;
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
