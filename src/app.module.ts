import { DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module';
import { AuditModule } from './audit/audit.module';
import { AppConfig } from './config/app-config';
import { CoreModule } from './config/core.module';
import { ConsoleModule } from './console/console.module';
import { EventStoreModule } from './event-store/event-store.module';
import { HealthModule } from './health/health.module';
import { ProviderChoice, ProviderEndpointModule } from './provider-endpoint.module';
import { ProviderHealthModule } from './provider-health/provider-health.module';
import { ReadModelModule } from './read-model/read-model.module';
import { ProcessManagerModule } from './process-manager/process-manager.module';
import { WorkStoreModule } from './process-manager/work-store.module';
import { StatusCheckBudgetModule } from './provider/status-checks/status-check-budget.module';
import { ProviderWebhooksModule } from './provider-webhooks/provider-webhooks.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { Clock } from './shared/clock';
import { Random } from './shared/random';
import { StatementsModule } from './statements/statements.module';
import { SupportModule } from './support/support.module';
import { TransactionsModule } from './transactions/transactions.module';

@Module({})
export class AppModule {
  /** The configuration chooses the adapters, so it is needed before the module graph exists. */
  static forRoot(
    config: AppConfig,
    clock: Clock,
    random: Random,
    provider: ProviderChoice,
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, clock, random),
        ProviderEndpointModule.forRoot(provider),
        EventStoreModule.forRoot(config),
        ReadModelModule.forRoot(config),
        WorkStoreModule.forRoot(config),
        RateLimitModule.forRoot(config),
        StatusCheckBudgetModule.forRoot(config),
        TransactionsModule,
        ProviderHealthModule,
        AccountsModule,
        StatementsModule,
        ProviderWebhooksModule,
        ProcessManagerModule,
        SupportModule,
        HealthModule,
        AuditModule,
        ConsoleModule,
      ],
    };
  }
}
