import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ReadModel, TransactionSummary } from '../../transactions/read-model.port';
import { GetSupportTransactionQuery } from './get-support-transaction.query';

@QueryHandler(GetSupportTransactionQuery)
export class GetSupportTransactionHandler implements IQueryHandler<
  GetSupportTransactionQuery,
  TransactionSummary | null
> {
  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  /** After the projection caught up, so support sees a resolution it just made. */
  async execute({ transactionId }: GetSupportTransactionQuery): Promise<TransactionSummary | null> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return this.readModel.findSummaryByTransactionId(transactionId);
  }
}
