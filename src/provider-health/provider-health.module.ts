import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProjectionsModule } from '../projections/projections.module';
import { TransactionOutlook } from '../transactions/transaction-outlook.port';
import { ProviderHealthProjection } from './provider-health.projection';
import { ProviderHealth } from './provider-health.service';
import { ProviderStatusController } from './provider-status.controller';

/**
 * Global so that the transactions feature reaches its TransactionOutlook port without importing
 * this module (which reads the transactions' events, so sits above them).
 */
@Global()
@Module({
  imports: [AuthModule, ProjectionsModule],
  controllers: [ProviderStatusController],
  providers: [
    ProviderHealthProjection,
    ProviderHealth,
    { provide: TransactionOutlook, useExisting: ProviderHealth },
  ],
  exports: [ProviderHealth, ProviderHealthProjection, TransactionOutlook],
})
export class ProviderHealthModule {}
