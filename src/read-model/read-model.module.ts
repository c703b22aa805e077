import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { MongoReadModelModule } from './mongodb/mongodb-read-model.module';
import { SqliteReadModelModule } from './sqlite/sqlite-read-model.module';

/** Every READ_MODEL value must name a module here, or this does not compile. */
const adapterModules: Record<AppConfig['readModel'], Type> = {
  sqlite: SqliteReadModelModule,
  mongodb: MongoReadModelModule,
};

/** Provides the ReadModel port with the adapter that READ_MODEL selects. */
@Global()
@Module({})
export class ReadModelModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapter = adapterModules[config.readModel];
    return { module: ReadModelModule, imports: [adapter], exports: [adapter] };
  }
}
