import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { RateLimitCounters } from '../rate-limit-counters.port';
import { SqliteRateLimitCounters } from './sqlite-rate-limit-counters';
import { STORE_FILES } from '../../sqlite/store-files';

/** The embedded counters: `rate-limits.sqlite` in the data folder, shared by its processes. */
@Module({
  providers: [
    {
      provide: SqliteRateLimitCounters,
      inject: [AppConfig],
      useFactory: (config: AppConfig): SqliteRateLimitCounters => {
        mkdirSync(config.dataDir, { recursive: true });
        return new SqliteRateLimitCounters(join(config.dataDir, STORE_FILES.rateLimits));
      },
    },
    { provide: RateLimitCounters, useExisting: SqliteRateLimitCounters },
  ],
  exports: [RateLimitCounters],
})
export class SqliteRateLimitCountersModule implements OnApplicationShutdown {
  constructor(private readonly counters: SqliteRateLimitCounters) {}

  // The last shutdown phase: the counting stops its syncs earlier (onModuleDestroy).
  onApplicationShutdown(): void {
    this.counters.close();
  }
}
