import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { MongoConnection, MongoConnectionModule } from '../../mongodb/mongo-connection.module';
import { WorkStore } from '../work-store.port';
import { MongoWorkStore } from './mongodb-work-store';

/** The scaled-out work store: collections beside the read model's in the shared MongoDB database. */
@Module({
  imports: [MongoConnectionModule],
  providers: [
    {
      provide: WorkStore,
      inject: [MongoConnection],
      // Awaited by Nest: the indexes exist before anything claims or commits.
      useFactory: (connection: MongoConnection): Promise<WorkStore> =>
        MongoWorkStore.open(connection.db),
    },
  ],
  exports: [WorkStore],
})
export class MongoWorkStoreModule implements OnApplicationShutdown {
  constructor(@Inject(WorkStore) private readonly workStore: WorkStore) {}

  // The last shutdown phase, with the client's own close: the process manager and its executor
  // stop earlier, so nothing uses the store once it is closed.
  async onApplicationShutdown(): Promise<void> {
    await this.workStore.close();
  }
}
