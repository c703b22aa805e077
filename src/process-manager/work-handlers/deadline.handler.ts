import { Injectable } from '@nestjs/common';
import { Clock } from '../../shared/clock';
import { TransactionStreams } from '../../transactions/transaction-streams';
import type { ClaimedWork } from '../work-queue.port';
import { WorkHandler, causationOf } from './work-handler';

/** The reconciliation deadline has come: the decider decides whether support must step in. */
@Injectable()
export class DeadlineHandler implements WorkHandler {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly clock: Clock,
  ) {}

  async perform(work: ClaimedWork): Promise<true> {
    await this.streams.handle(
      work.transactionId,
      { type: 'ExpireDeadline', at: this.clock.now().toISOString() },
      causationOf(work),
    );
    return true;
  }
}
