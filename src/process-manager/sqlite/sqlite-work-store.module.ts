import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { STORE_FILES } from '../../sqlite/store-files';
import { CheckpointedSchedule } from '../checkpointed-schedule.port';
import { NamedLeases } from '../named-leases.port';
import { WorkQueue } from '../work-queue.port';
import { SqliteNamedLeases } from './sqlite-named-leases';
import { SqliteWorkStore } from './sqlite-work-store';

/** The embedded work store: `work.sqlite` in the data folder, behind the process manager's ports. */
@Module({
  providers: [
    {
      provide: SqliteWorkStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig): SqliteWorkStore => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteWorkStore({ path: join(config.dataDir, STORE_FILES.work) });
      },
    },
    { provide: WorkQueue, useExisting: SqliteWorkStore },
    { provide: CheckpointedSchedule, useExisting: SqliteWorkStore },
    {
      provide: SqliteNamedLeases,
      inject: [AppConfig],
      useFactory: (config: AppConfig): SqliteNamedLeases => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteNamedLeases({ path: join(config.dataDir, STORE_FILES.work) });
      },
    },
    { provide: NamedLeases, useExisting: SqliteNamedLeases },
  ],
  exports: [WorkQueue, CheckpointedSchedule, NamedLeases],
})
export class SqliteWorkStoreModule implements OnApplicationShutdown {
  constructor(
    private readonly workStore: SqliteWorkStore,
    private readonly leases: SqliteNamedLeases,
  ) {}

  // The last shutdown phase: the process manager and its executor stop earlier
  // (onModuleDestroy, beforeApplicationShutdown), so nothing claims or commits on a closed file.
  async onApplicationShutdown(): Promise<void> {
    await this.leases.close();
    await this.workStore.close();
  }
}
