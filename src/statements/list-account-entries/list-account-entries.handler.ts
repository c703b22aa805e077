import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { ReadModel } from '../../transactions/read-model.port';
import { AccountReadModel, EntryPage } from '../../accounts/account-read-model.port';
import { ListAccountEntriesQuery } from './list-account-entries.query';

export interface AccountEntriesResult {
  page: EntryPage;
  /** The client id of each hold's transaction that the summaries know, by transaction id. */
  clientIds: Map<string, string>;
}

/** Null when the owner has no account in that currency. */
@QueryHandler(ListAccountEntriesQuery)
export class ListAccountEntriesHandler implements IQueryHandler<
  ListAccountEntriesQuery,
  AccountEntriesResult | null
> {
  constructor(
    private readonly accounts: AccountReadModel,
    private readonly summaries: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  async execute(query: ListAccountEntriesQuery): Promise<AccountEntriesResult | null> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    if (!(await this.accounts.findAccount(query.owner, query.currency))) return null;
    const page = await this.accounts.listEntries(query);
    const transactionIds = new Set(page.items.flatMap((entry) => entry.transactionId ?? []));
    const clientIds = new Map<string, string>();
    // One indexed lookup per transaction of the page (at most the page size).
    for (const transactionId of transactionIds) {
      const summary = await this.summaries.findSummaryByTransactionId(transactionId);
      if (summary) clientIds.set(transactionId, summary.clientId);
    }
    return { page, clientIds };
  }
}
