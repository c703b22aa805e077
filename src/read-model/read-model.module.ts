import { DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { SqliteReadModelModule } from './sqlite/sqlite-read-model.module';

const adapterModules = { sqlite: SqliteReadModelModule } as const;

/** Provides the ReadModel port with the adapter that READ_MODEL selects. */
@Global()
@Module({})
export class ReadModelModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapter = adapterModules[config.readModel];
    return { module: ReadModelModule, imports: [adapter], exports: [adapter] };
  }
}
