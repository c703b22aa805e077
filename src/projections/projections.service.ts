import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { EventStore } from '../event-store/event-store.port';
import { HostedProjection } from './hosted-projection';
import { Projection, ProjectionRunner } from './projection-runner';

export interface ProjectionStatus {
  name: string;
  checkpoint: bigint;
  error: string | null;
}

/**
 * Runs every read-model projection of this instance (the providers marked HostedProjection) and
 * lets queries wait for them to catch up. An instance in the worker role serves no queries and
 * runs none.
 */
@Injectable()
export class ProjectionsService
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Projections');
  private runners: ProjectionRunner[] = [];

  constructor(
    private readonly eventStore: EventStore,
    private readonly discovery: DiscoveryService,
    private readonly config: AppConfig,
  ) {}

  /** Every provider exists by now, so the marked ones can be found. */
  onModuleInit(): void {
    if (this.config.role === 'worker') return;
    this.runners = this.discovery
      .getProviders({ metadataKey: HostedProjection.KEY })
      .map((wrapper) => new ProjectionRunner(this.eventStore, wrapper.instance as Projection));
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
