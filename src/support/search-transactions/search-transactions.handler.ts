import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ReadModel, SummaryPage } from '../../transactions/read-model.port';
import { SearchTransactionsQuery } from './search-transactions.query';

@QueryHandler(SearchTransactionsQuery)
export class SearchTransactionsHandler implements IQueryHandler<
  SearchTransactionsQuery,
  SummaryPage
> {
  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  async execute({ search }: SearchTransactionsQuery): Promise<SummaryPage> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return this.readModel.searchSummaries(search);
  }
}
