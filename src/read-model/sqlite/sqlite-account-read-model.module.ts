import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AccountReadModel } from '../../accounts/account-read-model.port';
import { AppConfig } from '../../config/app-config';
import { STORE_FILES } from '../../sqlite/store-files';
import { SqliteAccountReadModel } from './sqlite-account-read-model';

/** The embedded account read model: `account-read-model.sqlite` in the data folder. */
@Module({
  providers: [
    {
      provide: AccountReadModel,
      inject: [AppConfig],
      useFactory: (config: AppConfig): AccountReadModel => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteAccountReadModel({
          path: join(config.dataDir, STORE_FILES.accountReadModel),
        });
      },
    },
  ],
  exports: [AccountReadModel],
})
export class SqliteAccountReadModelModule implements OnApplicationShutdown {
  constructor(@Inject(AccountReadModel) private readonly readModel: AccountReadModel) {}

  // The last shutdown phase: queries and the projection stop earlier.
  async onApplicationShutdown(): Promise<void> {
    await this.readModel.close();
  }
}
