import { Module } from '@nestjs/common';
import { TransactionsModule } from '../transactions/transactions.module';
import { ProviderWebhookController } from './provider-webhook.controller';
import { WebhookUrls } from './webhook-urls';

@Module({
  imports: [TransactionsModule],
  controllers: [ProviderWebhookController],
  providers: [WebhookUrls],
  exports: [WebhookUrls],
})
export class ProviderWebhooksModule {}
