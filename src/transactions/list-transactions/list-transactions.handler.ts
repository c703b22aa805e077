import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ReadModel, SummaryPage } from '../read-model.port';
import { ListTransactionsQuery } from './list-transactions.query';

@QueryHandler(ListTransactionsQuery)
export class ListTransactionsHandler implements IQueryHandler<ListTransactionsQuery, SummaryPage> {
  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  async execute({ owner, limit, status, before }: ListTransactionsQuery): Promise<SummaryPage> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return this.readModel.listSummaries({ owner, limit, status, before });
  }
}
