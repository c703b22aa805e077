import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TransactionsModule } from '../transactions/transactions.module';
import { ProviderWebhookController } from './provider-webhook.controller';
import { RecordProviderReportHandler } from './record-provider-report.handler';
import { WebhookUrls } from './webhook-urls';

@Module({
  imports: [CqrsModule, TransactionsModule],
  controllers: [ProviderWebhookController],
  providers: [WebhookUrls, RecordProviderReportHandler],
  exports: [WebhookUrls],
})
export class ProviderWebhooksModule {}
