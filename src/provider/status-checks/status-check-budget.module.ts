import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { MongoStatusCheckBudgetModule } from './mongodb/mongodb-status-check-budget.module';
import { SqliteStatusCheckBudgetModule } from './sqlite/sqlite-status-check-budget.module';

/** Every READ_MODEL value needs its module here: the budget lives beside the work store. */
const adapterModules: Record<AppConfig['readModel'], Type> = {
  sqlite: SqliteStatusCheckBudgetModule,
  mongodb: MongoStatusCheckBudgetModule,
};

/** Provides the StatusCheckBudget port; READ_MODEL selects its adapter. */
@Global()
@Module({})
export class StatusCheckBudgetModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapter = adapterModules[config.readModel];
    return { module: StatusCheckBudgetModule, imports: [adapter], exports: [adapter] };
  }
}
