import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { MongoReadModelModule } from './mongodb/mongodb-read-model.module';
import { MongoAccountReadModelModule } from './mongodb/mongodb-account-read-model.module';
import { SqliteAccountReadModelModule } from './sqlite/sqlite-account-read-model.module';
import { SqliteReadModelModule } from './sqlite/sqlite-read-model.module';

/** Every READ_MODEL value must name a module here, or this does not compile. */
const adapterModules: Record<AppConfig['readModel'], Type> = {
  sqlite: SqliteReadModelModule,
  mongodb: MongoReadModelModule,
};

/** The accounts' read model lives in the same store as the summaries. */
const accountAdapterModules: Record<AppConfig['readModel'], Type> = {
  sqlite: SqliteAccountReadModelModule,
  mongodb: MongoAccountReadModelModule,
};

/** Provides the ReadModel and AccountReadModel ports with the adapters READ_MODEL selects. */
@Global()
@Module({})
export class ReadModelModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapters = [adapterModules[config.readModel], accountAdapterModules[config.readModel]];
    return { module: ReadModelModule, imports: adapters, exports: adapters };
  }
}
