import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { MongoConnection, MongoConnectionModule } from '../../mongodb/mongo-connection.module';
import { ReadModel } from '../../transactions/read-model.port';
import { MongoReadModel } from './mongodb-read-model';

/** The scaled-out read model: collections in the MongoDB database shared with the work store. */
@Module({
  imports: [MongoConnectionModule],
  providers: [
    {
      provide: ReadModel,
      inject: [MongoConnection],
      // Awaited by Nest: the indexes exist before the first query or projection commit.
      useFactory: (connection: MongoConnection): Promise<ReadModel> =>
        MongoReadModel.open(connection.db),
    },
  ],
  exports: [ReadModel],
})
export class MongoReadModelModule implements OnApplicationShutdown {
  constructor(@Inject(ReadModel) private readonly readModel: ReadModel) {}

  // The last shutdown phase: whoever uses the read model stops earlier (onModuleDestroy,
  // beforeApplicationShutdown). It only marks the adapter closed; MongoConnection closes the client.
  async onApplicationShutdown(): Promise<void> {
    await this.readModel.close();
  }
}
