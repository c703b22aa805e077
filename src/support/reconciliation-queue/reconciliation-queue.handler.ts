import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ReadModel, ReconciliationQueuePage } from '../../transactions/read-model.port';
import { Clock } from '../../shared/clock';
import { ReconciliationQueueQuery } from './reconciliation-queue.query';

@QueryHandler(ReconciliationQueueQuery)
export class ReconciliationQueueHandler implements IQueryHandler<
  ReconciliationQueueQuery,
  ReconciliationQueuePage
> {
  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** "Pending too long" is measured from now, at every query: no event marks the moment. */
  async execute({ limit, after }: ReconciliationQueueQuery): Promise<ReconciliationQueuePage> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    const cutoff = this.clock.now().getTime() - this.config.reconciliationPendingAgeMs;
    return this.readModel.reconciliationQueue({
      pendingRequestedBefore: new Date(cutoff).toISOString(),
      after,
      limit,
    });
  }
}
