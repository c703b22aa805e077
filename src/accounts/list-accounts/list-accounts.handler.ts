import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { AccountBalance, AccountReadModel } from '../account-read-model.port';
import { ListAccountsQuery } from './list-accounts.query';

@QueryHandler(ListAccountsQuery)
export class ListAccountsHandler implements IQueryHandler<ListAccountsQuery, AccountBalance[]> {
  constructor(
    private readonly readModel: AccountReadModel,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  async execute({ owner }: ListAccountsQuery): Promise<AccountBalance[]> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return this.readModel.listAccounts(owner);
  }
}
