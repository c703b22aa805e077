import { Module, OnApplicationShutdown } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { HttpPaymentProvider } from './http/http-payment-provider';
import { PaymentProvider } from './payment-provider.port';
import { BudgetedStatusCheck } from './status-checks/budgeted-status-check';
import { ProviderEndpoint } from './provider-endpoint';

@Injectable()
class ProviderShutdown implements OnApplicationShutdown {
  constructor(private readonly provider: PaymentProvider) {}

  async onApplicationShutdown(): Promise<void> {
    await this.provider.close();
  }
}

@Module({
  providers: [
    {
      provide: PaymentProvider,
      inject: [AppConfig, ProviderEndpoint],
      useFactory: (config: AppConfig, endpoint: ProviderEndpoint) =>
        new HttpPaymentProvider({
          baseUrl: endpoint.baseUrl,
          submitTimeoutMs: config.provider.submitTimeoutMs,
          statusTimeoutMs: config.provider.statusTimeoutMs,
          // Every step in flight may wait on the provider: submissions and the other kinds.
          connections: config.worker.submitConcurrency + config.worker.concurrency,
        }),
    },
    ProviderShutdown,
    BudgetedStatusCheck,
  ],
  exports: [PaymentProvider, BudgetedStatusCheck],
})
export class ProviderModule {}
