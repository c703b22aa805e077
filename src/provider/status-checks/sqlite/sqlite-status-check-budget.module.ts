import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../../config/app-config';
import { StatusCheckBudget } from '../status-check-budget.port';
import { SqliteStatusCheckBudget } from './sqlite-status-check-budget';
import { STORE_FILES } from '../../../sqlite/store-files';

/** The embedded status-check budget: its table in `work.sqlite` in the data folder. */
@Module({
  providers: [
    {
      provide: SqliteStatusCheckBudget,
      inject: [AppConfig],
      useFactory: (config: AppConfig): SqliteStatusCheckBudget => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteStatusCheckBudget({ path: join(config.dataDir, STORE_FILES.work) });
      },
    },
    { provide: StatusCheckBudget, useExisting: SqliteStatusCheckBudget },
  ],
  exports: [StatusCheckBudget],
})
export class SqliteStatusCheckBudgetModule implements OnApplicationShutdown {
  constructor(private readonly budget: SqliteStatusCheckBudget) {}

  // The last shutdown phase: the process manager and support stop taking checks earlier.
  async onApplicationShutdown(): Promise<void> {
    await this.budget.close();
  }
}
