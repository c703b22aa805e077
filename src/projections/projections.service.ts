import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventStore } from '../event-store/event-store.port';
import { TransactionSummaryProjection } from '../transactions/transaction-summary.projection';
import { ProjectionRunner } from './projection-runner';

export interface ProjectionStatus {
  name: string;
  checkpoint: bigint;
  error: string | null;
}

/**
 * Runs every read-model projection of this instance and lets queries wait for them to catch up.
 * An instance in the worker role serves no queries and runs none.
 */
@Injectable()
export class ProjectionsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Projections');
  private readonly runners: ProjectionRunner[];

  constructor(
    private readonly eventStore: EventStore,
    summaries: TransactionSummaryProjection,
    config: AppConfig,
  ) {
    this.runners = config.role === 'worker' ? [] : [new ProjectionRunner(eventStore, summaries)];
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.start()));
    this.logger.log(`started ${this.runners.length} projection(s)`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }

  /**
   * Waits until every projection includes all events appended before this call, so a client
   * reads its own writes. Resolves false on timeout; the caller then serves what it has.
   */
  async catchUp(timeoutMs: number): Promise<boolean> {
    const head = await this.eventStore.headPosition();
    const results = await Promise.all(this.runners.map((r) => r.waitFor(head, timeoutMs)));
    return results.every(Boolean);
  }

  status(): ProjectionStatus[] {
    return this.runners.map((runner) => ({
      name: runner.name,
      checkpoint: runner.checkpoint,
      error: runner.error?.message ?? null,
    }));
  }
}
