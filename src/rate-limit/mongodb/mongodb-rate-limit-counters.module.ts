import { Module } from '@nestjs/common';
import { MongoConnection, MongoConnectionModule } from '../../mongodb/mongo-connection.module';
import { RateLimitCounters } from '../rate-limit-counters.port';
import { MongoRateLimitCounters } from './mongodb-rate-limit-counters';

/** The scaled-out counters: a collection in the shared MongoDB database. */
@Module({
  imports: [MongoConnectionModule],
  providers: [
    {
      provide: RateLimitCounters,
      inject: [MongoConnection],
      // Awaited by Nest: the TTL index exists before the first sync.
      useFactory: (connection: MongoConnection): Promise<RateLimitCounters> =>
        MongoRateLimitCounters.open(connection.db),
    },
  ],
  exports: [RateLimitCounters],
})
export class MongoRateLimitCountersModule {}
