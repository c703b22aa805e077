import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { ProviderModule } from '../provider/provider.module';
import { ProviderWebhooksModule } from '../provider-webhooks/provider-webhooks.module';
import { TransactionsModule } from '../transactions/transactions.module';
import { ClientNotifier } from './client-notifier';
import { ProcessManagerProjection } from './process-manager.projection';
import { ProcessManagerWorker } from './process-manager.worker';
import { CheckHandler } from './work-handlers/check.handler';
import { DeadlineHandler } from './work-handlers/deadline.handler';
import { NotifyHandler } from './work-handlers/notify.handler';
import { SettleHandler } from './work-handlers/settle.handler';
import { SubmitHandler } from './work-handlers/submit.handler';
import { WorkHandlers } from './work-handlers/work-handlers';

@Module({
  imports: [TransactionsModule, AccountsModule, ProviderModule, ProviderWebhooksModule],
  providers: [
    ProcessManagerProjection,
    ProcessManagerWorker,
    ClientNotifier,
    SubmitHandler,
    CheckHandler,
    DeadlineHandler,
    NotifyHandler,
    SettleHandler,
    WorkHandlers,
  ],
  exports: [ProcessManagerWorker],
})
export class ProcessManagerModule {}
