import { Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../provider-simulator/provider-simulator';
import { HttpPaymentProvider } from './http/http-payment-provider';
import { PaymentProvider } from './payment-provider.port';
import { BudgetedStatusCheck } from './status-checks/budgeted-status-check';

/** With no PROVIDER_URL, the service runs the provider simulator on its own port. */
@Injectable()
export class BuiltInSimulator implements OnApplicationShutdown {
  private readonly logger = new Logger('ProviderSimulator');
  private running: RunningProviderSimulator | null = null;

  async start(config: NonNullable<AppConfig['simulator']>): Promise<string> {
    this.running = await startProviderSimulator({
      ...config.options,
      port: config.port,
      host: config.host,
    });
    this.logger.log(
      { url: this.running.url, timeScale: config.options.timeScale },
      'no PROVIDER_URL configured: started the built-in provider simulator',
    );
    return this.running.url;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}

@Injectable()
class ProviderShutdown implements OnApplicationShutdown {
  constructor(private readonly provider: PaymentProvider) {}

  async onApplicationShutdown(): Promise<void> {
    await this.provider.close();
  }
}

@Module({
  providers: [
    BuiltInSimulator,
    {
      provide: PaymentProvider,
      inject: [AppConfig, BuiltInSimulator],
      useFactory: async (config: AppConfig, simulator: BuiltInSimulator) => {
        const baseUrl = config.provider.url ?? (await simulator.start(config.simulator!));
        return new HttpPaymentProvider({
          baseUrl,
          submitTimeoutMs: config.provider.submitTimeoutMs,
          statusTimeoutMs: config.provider.statusTimeoutMs,
          connections: config.worker.concurrency,
        });
      },
    },
    ProviderShutdown,
    BudgetedStatusCheck,
  ],
  exports: [PaymentProvider, BudgetedStatusCheck],
})
export class ProviderModule {}
