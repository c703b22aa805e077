import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Db, MongoClient, MongoClientOptions } from 'mongodb';
import { AppConfig } from '../config/app-config';

/**
 * One MongoDB client per process, shared by the read model and the work store (READ_MODEL=mongodb
 * puts both there). The adapters do not own it: it closes in the last shutdown phase, after
 * every projection and worker has stopped in the earlier ones.
 */
/** Majority writes and reads, so that a failover never loses an acknowledged change. */
export const MONGO_CLIENT_OPTIONS: MongoClientOptions = {
  appName: 'payment-ledger',
  writeConcern: { w: 'majority' },
  readConcern: { level: 'majority' },
  retryWrites: true,
};

@Injectable()
export class MongoConnection implements OnApplicationShutdown {
  constructor(
    readonly client: MongoClient,
    readonly db: Db,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: MongoConnection,
      inject: [AppConfig],
      useFactory: async (config: AppConfig): Promise<MongoConnection> => {
        if (!config.mongo) throw new Error('MONGODB_URL is not set');
        const client = new MongoClient(config.mongo.url, MONGO_CLIENT_OPTIONS);
        await client.connect();
        return new MongoConnection(client, client.db(config.mongo.database));
      },
    },
  ],
  exports: [MongoConnection],
})
export class MongoConnectionModule {}
