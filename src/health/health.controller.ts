import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { EventStore } from '../event-store/event-store.port';
import { ProcessManagerWorker } from '../process-manager/process-manager.worker';
import { ProjectionsService } from '../projections/projections.service';
import { ReadModel } from '../read-model/read-model.port';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly eventStore: EventStore,
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly processManager: ProcessManagerWorker,
  ) {}

  /** The process is up and serving HTTP; says nothing about its dependencies. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready to take traffic: the stores answer and no projection has stopped on an error. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.ping('eventStore', () => this.eventStore.ping()),
      () => this.ping('readModel', () => this.readModel.ping()),
      () => {
        const session = this.indicators.check('projections');
        const all = this.processManager.enabled
          ? [
              ...this.projections.status(),
              { name: 'process-manager', ...this.processManager.status() },
            ]
          : this.projections.status();
        const status = all.map((p) => ({
          name: p.name,
          checkpoint: p.checkpoint.toString(),
          error: p.error,
        }));
        return status.some((p) => p.error !== null)
          ? session.down({ projections: status })
          : session.up({ projections: status });
      },
    ]);
  }

  private async ping(key: string, ping: () => Promise<void>) {
    const session = this.indicators.check(key);
    try {
      await ping();
      return session.up();
    } catch (error) {
      return session.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
