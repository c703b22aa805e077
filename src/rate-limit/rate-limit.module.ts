import { DynamicModule, Module, Type } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from '../shared/clock';
import { MongoRateLimitCountersModule } from './mongodb/mongodb-rate-limit-counters.module';
import { RateLimitCounters } from './rate-limit-counters.port';
import { SqliteRateLimitCountersModule } from './sqlite/sqlite-rate-limit-counters.module';
import { SyncedCallerCounts } from './synced-caller-counts';

/** Every READ_MODEL value needs its module here: the counters live beside the read model. */
const adapterModules: Record<AppConfig['readModel'], Type> = {
  sqlite: SqliteRateLimitCountersModule,
  mongodb: MongoRateLimitCountersModule,
};

/** Callers remembered per instance; more are forgotten least recently seen first. */
const MAX_TRACKED_CALLERS = 100_000;

/** Provides the request counts behind the rate limits; a worker serves no API, so counts nothing. */
@Module({})
export class RateLimitModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (config.role === 'worker') return { module: RateLimitModule };
    return {
      module: RateLimitModule,
      imports: [adapterModules[config.readModel]],
      providers: [
        {
          provide: SyncedCallerCounts,
          inject: [RateLimitCounters, Clock],
          useFactory: (counters: RateLimitCounters, clock: Clock) => {
            const { perPrincipal, perAddress, windowMs, syncMs } = config.rateLimits;
            const limits = [perPrincipal, perAddress].filter((limit) => limit > 0);
            return new SyncedCallerCounts(counters, clock, {
              windowMs,
              syncMs,
              capacity: MAX_TRACKED_CALLERS,
              // With no limit on, nothing is counted and nobody needs to be learnt of.
              atLeast: limits.length > 0 ? Math.min(...limits) : Number.MAX_SAFE_INTEGER,
            });
          },
        },
      ],
      exports: [SyncedCallerCounts],
    };
  }
}
