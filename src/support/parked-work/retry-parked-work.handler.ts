import { Logger } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { WorkQueue } from '../../process-manager/work-queue.port';
import { Clock } from '../../shared/clock';
import { RetryParkedWorkCommand } from './retry-parked-work.command';

/** True when the item was parked and is now due again. */
@CommandHandler(RetryParkedWorkCommand)
export class RetryParkedWorkHandler implements ICommandHandler<RetryParkedWorkCommand, boolean> {
  private readonly logger = new Logger('Support');

  constructor(
    private readonly workQueue: WorkQueue,
    private readonly clock: Clock,
  ) {}

  async execute({ transactionId, kind, actor }: RetryParkedWorkCommand): Promise<boolean> {
    const retried = await this.workQueue.retryParked(
      transactionId,
      kind,
      this.clock.now().getTime(),
    );
    if (retried) this.logger.log({ transactionId, kind, actor }, 'parked work put back by support');
    return retried;
  }
}
