import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { STORE_FILES } from '../../sqlite/store-files';
import { EventStore } from '../event-store.port';
import { SqliteEventStore } from './sqlite-event-store';

/** The embedded event store: `events.sqlite` in the data directory. */
@Module({
  providers: [
    {
      provide: EventStore,
      inject: [AppConfig, Clock],
      useFactory: (config: AppConfig, clock: Clock): EventStore => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteEventStore({
          path: join(config.dataDir, STORE_FILES.events),
          clock,
          pollIntervalMs: config.sqlitePollIntervalMs,
        });
      },
    },
  ],
  exports: [EventStore],
})
export class SqliteEventStoreModule implements OnApplicationShutdown {
  constructor(private readonly eventStore: EventStore) {}

  /** The last shutdown phase: the HTTP server and the store's consumers have already stopped. */
  async onApplicationShutdown(): Promise<void> {
    await this.eventStore.close();
  }
}
