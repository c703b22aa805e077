import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ReadModel, SummaryStatistics } from '../../transactions/read-model.port';
import { SupportStatsQuery } from './support-stats.query';

@QueryHandler(SupportStatsQuery)
export class SupportStatsHandler implements IQueryHandler<SupportStatsQuery, SummaryStatistics> {
  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  async execute(): Promise<SummaryStatistics> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return this.readModel.summaryStatistics();
  }
}
