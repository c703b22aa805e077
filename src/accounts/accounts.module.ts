import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AuthModule } from '../auth/auth.module';
import { AccountStreams } from './account-streams';
import { DepositFundsController } from './deposit-funds/deposit-funds.controller';
import { DepositFundsHandler } from './deposit-funds/deposit-funds.handler';

@Module({
  imports: [CqrsModule, AuthModule],
  controllers: [DepositFundsController],
  providers: [AccountStreams, DepositFundsHandler],
  exports: [AccountStreams],
})
export class AccountsModule {}
