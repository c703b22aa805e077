import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AuthModule } from '../auth/auth.module';
import { ProjectionsModule } from '../projections/projections.module';
import { AccountBalancesProjection } from './account-balances.projection';
import { AccountStreams } from './account-streams';
import { DepositFundsController } from './deposit-funds/deposit-funds.controller';
import { DepositFundsHandler } from './deposit-funds/deposit-funds.handler';
import { ListAccountsController } from './list-accounts/list-accounts.controller';
import { ListAccountsHandler } from './list-accounts/list-accounts.handler';
import { SetOverdraftLimitController } from './set-overdraft-limit/set-overdraft-limit.controller';
import { SetOverdraftLimitHandler } from './set-overdraft-limit/set-overdraft-limit.handler';

@Module({
  imports: [CqrsModule, AuthModule, ProjectionsModule],
  controllers: [DepositFundsController, SetOverdraftLimitController, ListAccountsController],
  providers: [
    AccountStreams,
    AccountBalancesProjection,
    DepositFundsHandler,
    SetOverdraftLimitHandler,
    ListAccountsHandler,
  ],
  exports: [AccountStreams],
})
export class AccountsModule {}
