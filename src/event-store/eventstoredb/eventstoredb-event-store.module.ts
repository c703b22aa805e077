import { Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { EventStore } from '../event-store.port';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

/** The scaled-out event store: EventStoreDB / KurrentDB at EVENTSTOREDB_CONNECTION_STRING. */
@Module({
  providers: [
    {
      provide: EventStore,
      inject: [AppConfig, Clock],
      useFactory: (config: AppConfig, clock: Clock): EventStore => {
        if (config.eventStoreDb === null) {
          throw new Error('EVENTSTOREDB_CONNECTION_STRING: required when EVENT_STORE=eventstoredb');
        }
        return new EventStoreDbEventStore({
          connectionString: config.eventStoreDb.connectionString,
          clock,
        });
      },
    },
  ],
  exports: [EventStore],
})
export class EventStoreDbEventStoreModule implements OnApplicationShutdown {
  constructor(private readonly eventStore: EventStore) {}

  /** The last shutdown phase: the HTTP server and the store's consumers have already stopped. */
  async onApplicationShutdown(): Promise<void> {
    await this.eventStore.close();
  }
}
