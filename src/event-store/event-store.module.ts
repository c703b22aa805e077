import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { EventStoreDbEventStoreModule } from './eventstoredb/eventstoredb-event-store.module';
import { SqliteEventStoreModule } from './sqlite/sqlite-event-store.module';

/** Every EVENT_STORE value has its adapter module, and nothing else is listed. */
const adapterModules: Record<AppConfig['eventStore'], Type> = {
  sqlite: SqliteEventStoreModule,
  eventstoredb: EventStoreDbEventStoreModule,
};

/** Provides the EventStore port with the adapter that EVENT_STORE selects. */
@Global()
@Module({})
export class EventStoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    const adapter = adapterModules[config.eventStore];
    return { module: EventStoreModule, imports: [adapter], exports: [adapter] };
  }
}
