import { Injectable } from '@nestjs/common';
import { Clock } from '../../shared/clock';
import { Random } from '../../shared/random';
import { TransactionStreams } from '../../transactions/transaction-streams';
import { ClientNotifier } from '../client-notifier';
import type { ClaimedWork } from '../work-queue.port';
import { WorkHandler, WorkOutcome } from './work-handler';

/** Delivers a final status to the client's callback, with backoff until it is acknowledged. */
@Injectable()
export class NotifyHandler implements WorkHandler {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly notifier: ClientNotifier,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  async perform(work: ClaimedWork): Promise<WorkOutcome> {
    const { state } = await this.streams.load(work.transactionId);
    if (!state.exists || state.status === 'PENDING') return true;
    const delivery = Number(work.payload.delivery);
    const delivered = await this.notifier.deliver(state);
    if (delivered) return true;
    return {
      retryAt: this.clock.now().getTime() + this.notifier.backoffMs(delivery, this.random.next()),
      payload: { ...work.payload, delivery: delivery + 1 },
    };
  }
}
