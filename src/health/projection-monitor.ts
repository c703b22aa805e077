import { Injectable } from '@nestjs/common';
import { EventStore, PositionUnit } from '../event-store/event-store.port';
import { ProcessManagerWorker } from '../process-manager/process-manager.worker';
import { ProjectionLag, measureProjectionLag } from '../projections/projection-lag';
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

  /** What lag and checkpoint figures count on this instance's event store. */
  get positionUnit(): PositionUnit {
    return this.eventStore.positionUnit;
  }

  /** A checkpoint as a plain number in positionUnit, for gauges. */
  checkpointOffset(checkpoint: bigint): number {
    return this.eventStore.positionOffset(checkpoint);
  }

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
        const lag = await measureProjectionLag(this.eventStore, checkpoint, head, now);
        return { name, checkpoint, lag, error };
      }),
    );
  }
}
