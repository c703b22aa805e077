import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { STORE_FILES } from '../../sqlite/store-files';
import { ReadModel } from '../../transactions/read-model.port';
import { SqliteReadModel } from './sqlite-read-model';

/** The embedded read model: `read-model.sqlite` in the data folder. */
@Module({
  providers: [
    {
      provide: ReadModel,
      inject: [AppConfig],
      useFactory: (config: AppConfig): ReadModel => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteReadModel({ path: join(config.dataDir, STORE_FILES.readModel) });
      },
    },
  ],
  exports: [ReadModel],
})
export class SqliteReadModelModule implements OnApplicationShutdown {
  constructor(@Inject(ReadModel) private readonly readModel: ReadModel) {}

  // The last shutdown phase: whoever uses the read model stops earlier (onModuleDestroy,
  // beforeApplicationShutdown), so no query or projection commit runs on a closed file.
  async onApplicationShutdown(): Promise<void> {
    await this.readModel.close();
  }
}
