import { Module, OnApplicationShutdown } from '@nestjs/common';
import { MongoConnection, MongoConnectionModule } from '../../mongodb/mongo-connection.module';
import { CheckpointedSchedule } from '../checkpointed-schedule.port';
import { NamedLeases } from '../named-leases.port';
import { WorkQueue } from '../work-queue.port';
import { MongoNamedLeases } from './mongodb-named-leases';
import { MongoWorkStore } from './mongodb-work-store';

/** The scaled-out work store: collections beside the read model's in the shared MongoDB database. */
@Module({
  imports: [MongoConnectionModule],
  providers: [
    {
      provide: MongoWorkStore,
      inject: [MongoConnection],
      // Awaited by Nest: the indexes exist before anything claims or commits.
      useFactory: (connection: MongoConnection): Promise<MongoWorkStore> =>
        MongoWorkStore.open(connection.db),
    },
    { provide: WorkQueue, useExisting: MongoWorkStore },
    { provide: CheckpointedSchedule, useExisting: MongoWorkStore },
    {
      provide: MongoNamedLeases,
      inject: [MongoConnection],
      useFactory: (connection: MongoConnection) => new MongoNamedLeases(connection.db),
    },
    { provide: NamedLeases, useExisting: MongoNamedLeases },
  ],
  exports: [WorkQueue, CheckpointedSchedule, NamedLeases],
})
export class MongoWorkStoreModule implements OnApplicationShutdown {
  constructor(
    private readonly workStore: MongoWorkStore,
    private readonly leases: MongoNamedLeases,
  ) {}

  // The last shutdown phase, with the client's own close: the process manager and its executor
  // stop earlier, so nothing uses the store once it is closed.
  async onApplicationShutdown(): Promise<void> {
    await this.leases.close();
    await this.workStore.close();
  }
}
