import { Module } from '@nestjs/common';
import { ProviderModule } from '../provider/provider.module';
import { ProviderWebhooksModule } from '../provider-webhooks/provider-webhooks.module';
import { TransactionsModule } from '../transactions/transactions.module';
import { ClientNotifier } from './client-notifier';
import { ProcessManagerProjection } from './process-manager.projection';
import { ProcessManagerWorker } from './process-manager.worker';

@Module({
  imports: [TransactionsModule, ProviderModule, ProviderWebhooksModule],
  providers: [ProcessManagerProjection, ProcessManagerWorker, ClientNotifier],
  exports: [ProcessManagerWorker],
})
export class ProcessManagerModule {}
