import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AccountReadModel, CurrencyBalances } from '../../accounts/account-read-model.port';
import { AppConfig } from '../../config/app-config';
import { ProjectionsService } from '../../projections/projections.service';
import { LedgerBalancesQuery } from './ledger-balances.query';

@QueryHandler(LedgerBalancesQuery)
export class LedgerBalancesHandler implements IQueryHandler<
  LedgerBalancesQuery,
  CurrencyBalances[]
> {
  constructor(
    private readonly accounts: AccountReadModel,
    private readonly projections: ProjectionsService,
    private readonly config: AppConfig,
  ) {}

  async execute(): Promise<CurrencyBalances[]> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    return this.accounts.currencyBalances();
  }
}
