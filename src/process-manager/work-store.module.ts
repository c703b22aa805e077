import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { MongoWorkStoreModule } from './mongodb/mongodb-work-store.module';
import { SqliteWorkStoreModule } from './sqlite/sqlite-work-store.module';

/** Every READ_MODEL value needs its module here: the work store lives beside the read model. */
const adapterModules: Record<AppConfig['readModel'], Type> = {
  sqlite: SqliteWorkStoreModule,
  mongodb: MongoWorkStoreModule,
};

/**
 * Provides the process manager's WorkQueue, CheckpointedSchedule and NamedLeases ports; they live
 * beside the read model (READ_MODEL selects the adapter).
 */
@Global()
@Module({})
export class WorkStoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapter = adapterModules[config.readModel];
    return { module: WorkStoreModule, imports: [adapter], exports: [adapter] };
  }
}
