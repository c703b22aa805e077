import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { STORE_FILES } from '../../sqlite/store-files';
import { WorkStore } from '../work-store.port';
import { SqliteWorkStore } from './sqlite-work-store';

/** The embedded work store: `work.sqlite` in the data folder. */
@Module({
  providers: [
    {
      provide: WorkStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig): WorkStore => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteWorkStore({ path: join(config.dataDir, STORE_FILES.work) });
      },
    },
  ],
  exports: [WorkStore],
})
export class SqliteWorkStoreModule implements OnApplicationShutdown {
  constructor(@Inject(WorkStore) private readonly workStore: WorkStore) {}

  // The last shutdown phase: the process manager and its executor stop earlier
  // (onModuleDestroy, beforeApplicationShutdown), so nothing claims or commits on a closed file.
  async onApplicationShutdown(): Promise<void> {
    await this.workStore.close();
  }
}
