import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock } from '../shared/clock';
import { TransactionStreams } from '../transactions/transaction-streams';
import { RecordProviderReportCommand } from './record-provider-report.command';

/** Records a report in the transaction's stream; false when it changed nothing (a repeat). */
@CommandHandler(RecordProviderReportCommand)
export class RecordProviderReportHandler implements ICommandHandler<
  RecordProviderReportCommand,
  boolean
> {
  constructor(
    private readonly streams: TransactionStreams,
    private readonly clock: Clock,
  ) {}

  async execute({
    transactionId,
    status,
    reportId,
    context,
  }: RecordProviderReportCommand): Promise<boolean> {
    const { events } = await this.streams.handle(
      transactionId,
      {
        type: 'RecordProviderReport',
        status,
        source: 'webhook',
        at: this.clock.now().toISOString(),
        reportId,
      },
      context,
    );
    return events.length > 0;
  }
}
