import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AuthModule } from '../auth/auth.module';
import { ProjectionsModule } from '../projections/projections.module';
import { ProviderModule } from '../provider/provider.module';
import { TransactionsModule } from '../transactions/transactions.module';
import { DashboardController } from './dashboard/dashboard.controller';
import { DashboardHandler } from './dashboard/dashboard.handler';
import { ReconciliationQueueSampler } from './dashboard/reconciliation-queue.sampler';
import { GetSupportTransactionController } from './get-support-transaction/get-support-transaction.controller';
import { GetSupportTransactionHandler } from './get-support-transaction/get-support-transaction.handler';
import { LedgerBalancesController } from './ledger-balances/ledger-balances.controller';
import { LedgerBalancesHandler } from './ledger-balances/ledger-balances.handler';
import { ParkedWorkController } from './parked-work/parked-work.controller';
import { ParkedWorkHandler } from './parked-work/parked-work.handler';
import { RetryParkedWorkHandler } from './parked-work/retry-parked-work.handler';
import { ReconciliationQueueController } from './reconciliation-queue/reconciliation-queue.controller';
import { ReconciliationQueueHandler } from './reconciliation-queue/reconciliation-queue.handler';
import { ResolveTransactionController } from './resolve-transaction/resolve-transaction.controller';
import { ResolveTransactionHandler } from './resolve-transaction/resolve-transaction.handler';
import { SearchTransactionsController } from './search-transactions/search-transactions.controller';
import { SearchTransactionsHandler } from './search-transactions/search-transactions.handler';
import { SupportAccountsController } from './support-accounts/support-accounts.controller';
import { SupportStatsController } from './support-stats/support-stats.controller';
import { SupportStatsHandler } from './support-stats/support-stats.handler';

/**
 * Routes for support staff (role `support`): search, the reconciliation queue, stats, resolve,
 * parked process-manager steps, any owner's accounts and statements, the ledger's balances, the
 * console dashboard's series.
 */
@Module({
  imports: [CqrsModule, AuthModule, ProjectionsModule, TransactionsModule, ProviderModule],
  controllers: [
    SearchTransactionsController,
    ReconciliationQueueController,
    SupportStatsController,
    GetSupportTransactionController,
    ResolveTransactionController,
    ParkedWorkController,
    SupportAccountsController,
    LedgerBalancesController,
    DashboardController,
  ],
  providers: [
    SearchTransactionsHandler,
    ReconciliationQueueHandler,
    SupportStatsHandler,
    GetSupportTransactionHandler,
    ResolveTransactionHandler,
    ParkedWorkHandler,
    RetryParkedWorkHandler,
    LedgerBalancesHandler,
    DashboardHandler,
    ReconciliationQueueSampler,
  ],
})
export class SupportModule {}
