import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ReadModel, TransactionSummary } from '../read-model.port';
import { TransactionChanges } from '../transaction-changes';
import { streamNameFor, transactionIdFor } from '../transaction-id';
import { GetTransactionQuery, WaitCondition } from './get-transaction.query';

function satisfies(summary: TransactionSummary, wait: WaitCondition): boolean {
  return wait.until === 'final'
    ? summary.status !== 'PENDING'
    : summary.revision > wait.afterRevision;
}

@QueryHandler(GetTransactionQuery)
export class GetTransactionHandler implements IQueryHandler<
  GetTransactionQuery,
  TransactionSummary | null
> {
  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly changes: TransactionChanges,
    private readonly config: AppConfig,
  ) {}

  /**
   * Reads after the projection has caught up with every write made before the query (so a
   * client reads its own writes). With a wait condition it listens before reading, so a change
   * landing between the read and the wait is never missed; a wait that times out reads again,
   * because changes that did not satisfy it may have landed meanwhile.
   */
  async execute({
    owner,
    clientId,
    wait,
  }: GetTransactionQuery): Promise<TransactionSummary | null> {
    const streamName = streamNameFor(transactionIdFor(owner, clientId));
    const change = wait
      ? this.changes.next(streamName, (s) => satisfies(s, wait), wait.timeoutMs)
      : null;
    const summary = await this.readCaughtUp(owner, clientId);
    if (!change) return summary;
    if (!summary || satisfies(summary, wait!)) {
      change.cancel();
      return summary;
    }
    return (await change.promise) ?? (await this.readCaughtUp(owner, clientId));
  }

  private async readCaughtUp(owner: string, clientId: string): Promise<TransactionSummary | null> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return this.readModel.findSummary(owner, clientId);
  }
}
