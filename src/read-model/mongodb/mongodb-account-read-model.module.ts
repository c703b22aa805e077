import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AccountReadModel } from '../../accounts/account-read-model.port';
import { MongoConnection, MongoConnectionModule } from '../../mongodb/mongo-connection.module';
import { MongoAccountReadModel } from './mongodb-account-read-model';

/** The scaled-out account read model, in the MongoDB database shared with the summaries. */
@Module({
  imports: [MongoConnectionModule],
  providers: [
    {
      provide: AccountReadModel,
      inject: [MongoConnection],
      // Awaited by Nest: the indexes exist before the first query or projection commit.
      useFactory: (connection: MongoConnection): Promise<AccountReadModel> =>
        MongoAccountReadModel.open(connection.db),
    },
  ],
  exports: [AccountReadModel],
})
export class MongoAccountReadModelModule implements OnApplicationShutdown {
  constructor(@Inject(AccountReadModel) private readonly readModel: AccountReadModel) {}

  // It only marks the adapter closed; MongoConnection closes the client.
  async onApplicationShutdown(): Promise<void> {
    await this.readModel.close();
  }
}
