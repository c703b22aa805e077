import { Module, OnApplicationShutdown } from '@nestjs/common';
import { MongoConnection, MongoConnectionModule } from '../../../mongodb/mongo-connection.module';
import { StatusCheckBudget } from '../status-check-budget.port';
import { MongoStatusCheckBudget } from './mongodb-status-check-budget';

/** The scaled-out status-check budget: a document beside the read model's in the shared database. */
@Module({
  imports: [MongoConnectionModule],
  providers: [
    {
      provide: MongoStatusCheckBudget,
      inject: [MongoConnection],
      useFactory: (connection: MongoConnection) => new MongoStatusCheckBudget(connection.db),
    },
    { provide: StatusCheckBudget, useExisting: MongoStatusCheckBudget },
  ],
  exports: [StatusCheckBudget],
})
export class MongoStatusCheckBudgetModule implements OnApplicationShutdown {
  constructor(private readonly budget: MongoStatusCheckBudget) {}

  // The last shutdown phase, with the client's own close: nothing takes checks any more.
  async onApplicationShutdown(): Promise<void> {
    await this.budget.close();
  }
}
