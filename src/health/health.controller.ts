import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { EventStore } from '../event-store/event-store.port';
import { ReadModel } from '../transactions/read-model.port';
import { lagFieldName } from '../projections/projection-lag';
import { EventLoopMonitor } from './event-loop-monitor';
import { ProjectionMonitor } from './projection-monitor';
import { ProcessManagerWorker } from '../process-manager/process-manager.worker';
import { AppConfig } from '../config/app-config';
import { BudgetedStatusCheck } from '../provider/status-checks/budgeted-status-check';
import { ApiProblems } from '../problem/api-problems.decorator';

/** What @nestjs/terminus answers: the overall status and each indicator's. */
const HEALTH_RESULT: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { type: 'object', additionalProperties: true },
    error: { type: 'object', additionalProperties: true },
    details: { type: 'object', additionalProperties: true },
  },
};

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly eventStore: EventStore,
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionMonitor,
    private readonly eventLoop: EventLoopMonitor,
    private readonly processManager: ProcessManagerWorker,
    private readonly statusChecks: BudgetedStatusCheck,
    private readonly config: AppConfig,
  ) {}

  /** The process is up and serving HTTP; says nothing about its dependencies. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiOkResponse({ schema: HEALTH_RESULT })
  @ApiProblems()
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /**
   * Ready to take traffic: the stores answer and no projection has stopped on an error. Each
   * projection's checkpoint and lag, the event loop's delay and the status-check budget are shown
   * either way; none of them makes it down (a rebuild, a burst or a provider's ban is not a
   * reason to take the instance out of service).
   */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the stores answer and no projection has stopped' })
  @ApiOkResponse({ schema: HEALTH_RESULT, description: 'Ready, with each projection and its lag' })
  @ApiServiceUnavailableResponse({
    schema: HEALTH_RESULT,
    description: 'Not ready: which store or projection failed, and why',
  })
  @ApiProblems()
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    try {
      return await this.checkReady();
    } catch (error) {
      // Answered here rather than by the problem filter, so that a 503 keeps terminus's details:
      // which projection stopped, and why.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      void reply.status(503);
      return error.getResponse();
    }
  }

  private checkReady() {
    return this.health.check([
      () => this.ping('eventStore', () => this.eventStore.ping()),
      () => this.ping('readModel', () => this.readModel.ping()),
      // The work store answers, and how much work waits in it (lag alone never makes it down).
      () => this.ping('work', async () => ({ backlog: await this.processManager.backlog() })),
      async () => {
        const session = this.indicators.check('projections');
        const status = (await this.projections.report()).map((p) => ({
          name: p.name,
          checkpoint: p.checkpoint.toString(),
          [lagFieldName(p.lag.unit)]: String(p.lag.behind),
          lagSeconds: p.lag.seconds,
          error: p.error,
        }));
        return status.some((p) => p.error !== null)
          ? session.down({ projections: status })
          : session.up({ projections: status });
      },
      () => this.indicators.check('eventLoop').up({ delay: this.eventLoop.report() }),
      () => this.statusCheckBudget(),
    ]);
  }

  /**
   * The budget every instance shares. A provider's ban is its state, not ours; an unreadable
   * budget is the work store's failure, which its own check reports.
   */
  private async statusCheckBudget() {
    const session = this.indicators.check('statusCheckBudget');
    try {
      const reading = await this.statusChecks.budgetState();
      const iso = (ms: number) => new Date(ms).toISOString();
      return session.up({
        ratePerSecond: round(reading.ratePerSecond),
        configuredRatePerSecond: this.config.provider.statusChecks.ratePerSecond,
        tokens: round(reading.tokens),
        blockedUntil: reading.blockedUntil === null ? null : iso(reading.blockedUntil),
        nextCheckAt: iso(reading.nextCheckAt),
      });
    } catch (error) {
      return session.up({ message: errorMessage(error) });
    }
  }

  private async ping(key: string, ping: () => Promise<Record<string, unknown> | void>) {
    const session = this.indicators.check(key);
    try {
      return session.up((await ping()) ?? undefined);
    } catch (error) {
      return session.down({ message: errorMessage(error) });
    }
  }
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** Three decimals: a recovered rate of 1.9999999999999998 reads 2. */
const round = (value: number) => Math.round(value * 1000) / 1000;
