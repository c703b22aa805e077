import { Injectable } from '@nestjs/common';
import { EventStore } from '../event-store/event-store.port';
import { ProcessManagerWorker } from '../process-manager/process-manager.worker';
import { ProjectionLag, projectionLag } from '../projections/projection-lag';
import { ProjectionsService } from '../projections/projections.service';
import { Clock } from '../shared/clock';

export interface ProjectionReport {
  name: string;
  checkpoint: bigint;
  lag: ProjectionLag;
  /** Why the projection stopped, naming the event; null while it runs. */
  error: string | null;
}

/**
 * Every projection this instance runs (the read-model ones and, in the worker role, the process
 * manager's planner) with its lag behind `$all`: what /health/ready and /metrics report.
 */
@Injectable()
export class ProjectionMonitor {
  constructor(
    private readonly eventStore: EventStore,
    private readonly projections: ProjectionsService,
    private readonly processManager: ProcessManagerWorker,
    private readonly clock: Clock,
  ) {}

  async report(): Promise<ProjectionReport[]> {
    const running = this.processManager.enabled
      ? [
          ...this.projections.status(),
          { name: 'process-manager', ...(await this.processManager.status()) },
        ]
      : this.projections.status();
    const head = await this.eventStore.headPosition();
    const now = this.clock.now();
    return Promise.all(
      running.map(async ({ name, checkpoint, error }) => {
        const [oldest] =
          head > checkpoint
            ? await this.eventStore.readAll({ after: checkpoint, maxCount: 1 })
            : [];
        const lag = projectionLag(checkpoint, head, oldest?.metadata.recordedAt ?? null, now);
        return { name, checkpoint, lag, error };
      }),
    );
  }
}
