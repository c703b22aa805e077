import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule } from '../accounts/accounts.module';
import { AuthModule } from '../auth/auth.module';
import { ProjectionsModule } from '../projections/projections.module';
import { GetTransactionController } from './get-transaction/get-transaction.controller';
import { GetTransactionHandler } from './get-transaction/get-transaction.handler';
import { ListTransactionsController } from './list-transactions/list-transactions.controller';
import { ListTransactionsHandler } from './list-transactions/list-transactions.handler';
import { RequestTransactionController } from './request-transaction/request-transaction.controller';
import { RequestTransactionHandler } from './request-transaction/request-transaction.handler';
import { StreamTransactionController } from './stream-transaction/stream-transaction.controller';
import { TransactionChanges } from './transaction-changes';
import { TransactionFunds } from './transaction-funds';
import { TransactionStreams } from './transaction-streams';
import { TransactionSummaryProjection } from './transaction-summary.projection';

@Module({
  imports: [CqrsModule, AuthModule, ProjectionsModule, AccountsModule],
  controllers: [
    RequestTransactionController,
    GetTransactionController,
    ListTransactionsController,
    StreamTransactionController,
  ],
  providers: [
    TransactionStreams,
    TransactionSummaryProjection,
    TransactionChanges,
    TransactionFunds,
    RequestTransactionHandler,
    GetTransactionHandler,
    ListTransactionsHandler,
  ],
  exports: [TransactionStreams, TransactionFunds],
})
export class TransactionsModule {}
