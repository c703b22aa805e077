import { DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { SqliteEventStoreModule } from './sqlite/sqlite-event-store.module';

const adapterModules = { sqlite: SqliteEventStoreModule } as const;

/** Provides the EventStore port with the adapter that EVENT_STORE selects. */
@Global()
@Module({})
export class EventStoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapter = adapterModules[config.eventStore];
    return { module: EventStoreModule, imports: [adapter], exports: [adapter] };
  }
}
