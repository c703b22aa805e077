import { GenericContainer, Wait } from 'testcontainers';
import { MongoDBContainer, StartedMongoDBContainer } from '@testcontainers/mongodb';
import { Db, MongoClient } from 'mongodb';
import { MONGO_CLIENT_OPTIONS } from '../../src/mongodb/mongo-connection.module';

/**
 * Container suites (`*.containers.ts`) run only where the global setup found a container runtime
 * (or CONTAINER_TESTS=force); elsewhere they are skipped and the setup prints why, once.
 */
export const describeWithContainers =
  process.env.CONTAINER_RUNTIME === 'yes' ? describe : describe.skip;

/** Pulling an image and initiating a replica set takes longer than a test may. */
export const CONTAINER_START_MS = 180_000;

/** The server line the adapters target (transactions need a replica set; the container initiates one). */
export const MONGODB_IMAGE = 'mongo:8.0';

export interface StartedMongo {
  /** A connection string to the single-node replica set (transactions work). */
  url: string;
  stop(): Promise<void>;
}

/** A single-node MongoDB replica set, initiated and ready. */
export async function startMongo(): Promise<StartedMongo> {
  const container: StartedMongoDBContainer = await new MongoDBContainer(MONGODB_IMAGE).start();
  const base = container.getConnectionString();
  const options = base.includes('?') ? '&directConnection=true' : '/?directConnection=true';
  return {
    // The replica set advertises the container's own host name; connect to the mapped port.
    url: `${base}${options}`,
    stop: async () => {
      await container.stop();
    },
  };
}

/** A client connected as the service connects (MONGO_CLIENT_OPTIONS). */
export async function connectMongo(url: string): Promise<MongoClient> {
  const client = new MongoClient(url, MONGO_CLIENT_OPTIONS);
  await client.connect();
  return client;
}

/**
 * For a container suite: one MongoDB replica set and one client for the whole suite (hooks
 * registered in the calling describe), and a fresh database per call, dropped after each test.
 * Call it in the describe body; register the suite's own afterEach hooks after it, so theirs
 * (which close the models) run first.
 */
export function useMongoDatabases(prefix: string): { newDatabase(): Db } {
  let mongo: StartedMongo | undefined;
  let client: MongoClient | undefined;
  let count = 0;
  let databases: string[] = [];

  beforeAll(async () => {
    mongo = await startMongo();
    client = await connectMongo(mongo.url);
  }, CONTAINER_START_MS);

  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  }, 60_000);

  afterEach(async () => {
    for (const name of databases) await client?.db(name).dropDatabase();
    databases = [];
  });

  return {
    newDatabase() {
      if (!client) throw new Error('useMongoDatabases: the suite has not started MongoDB yet');
      const name = `${prefix}_${++count}`;
      databases.push(name);
      return client.db(name);
    },
  };
}

/** The server line the EventStoreDB adapter targets: KurrentDB is EventStoreDB renamed. */
export const EVENTSTOREDB_IMAGE = 'kurrentplatform/kurrentdb:26.1.1';

const EVENTSTOREDB_PORT = 2113;

export interface StartedEventStoreDb {
  /** An `esdb://` connection string to the node (insecure: no TLS, no credentials). */
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * A single KurrentDB node for tests: insecure, its database in memory, the standard projections
 * running. The compose file turns them off, but a server someone else runs may have them on: their
 * link events in `$all` are what the adapter must skip, so the tests face them. Ready once
 * /health/live answers 2xx, the check the image's own HEALTHCHECK runs; appends made while the
 * node still elects itself are retried by the adapter.
 */
export async function startEventStoreDb(): Promise<StartedEventStoreDb> {
  const container = await new GenericContainer(EVENTSTOREDB_IMAGE)
    .withExposedPorts(EVENTSTOREDB_PORT)
    .withEnvironment({
      KURRENTDB_INSECURE: 'true',
      KURRENTDB_MEM_DB: 'true',
      KURRENTDB_RUN_PROJECTIONS: 'All',
      KURRENTDB_START_STANDARD_PROJECTIONS: 'true',
    })
    .withWaitStrategy(
      Wait.forHttp('/health/live', EVENTSTOREDB_PORT).forStatusCodeMatching(
        (status) => status >= 200 && status < 300,
      ),
    )
    .withStartupTimeout(120_000)
    .start();
  const address = `${container.getHost()}:${container.getMappedPort(EVENTSTOREDB_PORT)}`;
  return {
    connectionString: `esdb://${address}?tls=false`,
    stop: async () => {
      await container.stop();
    },
  };
}
