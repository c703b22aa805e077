import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AccountReadModel } from './accounts/account-read-model.port';
import { accountBalancesOnStores } from './accounts/account-balances.rebuild';
import { UsageError, runCli } from './cli/cli';
import { AppConfig } from './config/app-config';
import { CoreModule } from './config/core.module';
import { EventStoreModule } from './event-store/event-store.module';
import { EventStore } from './event-store/event-store.port';
import { SqliteEventStore } from './event-store/sqlite/sqlite-event-store';
import { processManagerOnStores } from './process-manager/process-manager.projection';
import { SqliteWorkStore } from './process-manager/sqlite/sqlite-work-store';
import { WorkStoreModule } from './process-manager/work-store.module';
import { CheckpointedSchedule } from './process-manager/checkpointed-schedule.port';
import { projectionsCli } from './projections/projections.cli';
import { ReadModelModule } from './read-model/read-model.module';
import { SqliteAccountReadModel } from './read-model/sqlite/sqlite-account-read-model';
import { SqliteReadModel } from './read-model/sqlite/sqlite-read-model';
import { SystemClock } from './shared/clock';
import { MathRandom } from './shared/random';
import { ReadModel } from './transactions/read-model.port';
import { summariesOnStores } from './transactions/transaction-summary.rebuild';
import { STORE_FILES } from './sqlite/store-files';

interface Stores {
  eventStore: EventStore;
  readModel: ReadModel;
  accountReadModel: AccountReadModel;
  /** Null when the process manager never ran on these stores. */
  workStore: CheckpointedSchedule | null;
  close: () => Promise<void>;
}

/** The service's store modules only: no HTTP, no projections, no process manager. */
@Module({})
class StoresModule {}

/**
 * The embedded files are opened directly (a missing one is an error, not a new empty store;
 * `status` opens the read model read-only). The servers are reached through the same adapter
 * modules the service uses.
 */
async function openStores(config: AppConfig, use: 'status' | 'rebuild'): Promise<Stores> {
  if (config.eventStore === 'sqlite' && config.readModel === 'sqlite') {
    const eventStore = openEventStore(config);
    const readModel = new SqliteReadModel({
      path: existingFile(config, STORE_FILES.readModel),
      readOnly: use === 'status',
    });
    const accountReadModel = new SqliteAccountReadModel({
      path: existingFile(config, STORE_FILES.accountReadModel),
      readOnly: use === 'status',
    });
    const workStorePath = join(config.dataDir, STORE_FILES.work);
    const workStore =
      use === 'status' && existsSync(workStorePath)
        ? new SqliteWorkStore({ path: workStorePath })
        : null;
    return {
      eventStore,
      readModel,
      accountReadModel,
      workStore,
      close: async () => {
        await eventStore.close();
        await readModel.close();
        await accountReadModel.close();
        await workStore?.close();
      },
    };
  }
  const context = await NestFactory.createApplicationContext(
    {
      module: StoresModule,
      imports: [
        CoreModule.forRoot(config, new SystemClock(), new MathRandom()),
        EventStoreModule.forRoot(config),
        ReadModelModule.forRoot(config),
        WorkStoreModule.forRoot(config),
      ],
    },
    // Errors reach main(), which prints them once and sets the exit code.
    { logger: ['warn'], abortOnError: false },
  );
  return {
    eventStore: context.get(EventStore),
    readModel: context.get(ReadModel),
    accountReadModel: context.get(AccountReadModel),
    workStore: context.get(CheckpointedSchedule),
    close: () => context.close(),
  };
}

/** A store file of DATA_DIR; opening a missing one would create an empty store. */
function existingFile(config: AppConfig, name: string): string {
  const path = join(config.dataDir, name);
  if (!existsSync(path)) throw new UsageError(`${path} does not exist: is DATA_DIR right?`);
  return path;
}

function openEventStore(config: AppConfig): SqliteEventStore {
  return new SqliteEventStore({
    path: existingFile(config, STORE_FILES.events),
    clock: new SystemClock(),
  });
}

/** `npm run projections`: the projections CLI, given every projection and the stores they keep. */
runCli(
  projectionsCli({
    projections: [summariesOnStores, accountBalancesOnStores, processManagerOnStores],
    openStores,
  }),
);
