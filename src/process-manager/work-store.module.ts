import { DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { SqliteWorkStoreModule } from './sqlite/sqlite-work-store.module';

const adapterModules = { sqlite: SqliteWorkStoreModule } as const;

/** Provides the WorkStore port; it lives beside the read model (READ_MODEL selects it). */
@Global()
@Module({})
export class WorkStoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapter = adapterModules[config.readModel];
    return { module: WorkStoreModule, imports: [adapter], exports: [adapter] };
  }
}
