import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../problem/api-problems.decorator';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ProviderHealthGauges } from '../provider-health/provider-health.gauges';
import { ProviderHealth } from '../provider-health/provider-health.service';
import { ProcessManagerWorker } from '../process-manager/process-manager.worker';
import { WorkBacklogGauge } from '../process-manager/work-backlog.gauge';
import { BudgetedStatusCheck } from '../provider/status-checks/budgeted-status-check';
import { StatusCheckBudgetGauges } from '../provider/status-checks/status-check-budget.gauges';
import { ProjectionMonitor } from './projection-monitor';

type ProjectionGauge = Gauge<'projection'>;

/**
 * Prometheus text exposition: per-projection checkpoint, lag and failure, the provider's
 * health figures, the work backlog, the status-check budget, plus the process defaults.
 * Unauthenticated like /health: it holds no transaction data.
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  /** Per instance, not prom-client's global one: tests run several services in one process. */
  private readonly registry = new Registry();
  private readonly checkpoint: ProjectionGauge;
  /** `ledger_projection_lag_events` or `_lag_log_bytes`: the store's unit is in the name. */
  private readonly lagBehind: ProjectionGauge;
  private readonly lagSeconds: ProjectionGauge;
  private readonly failed: ProjectionGauge;
  private readonly providerHealthGauges: ProviderHealthGauges;
  private readonly workBacklog: WorkBacklogGauge;

  constructor(
    private readonly monitor: ProjectionMonitor,
    private readonly providerHealth: ProviderHealth,
    private readonly processManager: ProcessManagerWorker,
    statusChecks: BudgetedStatusCheck,
  ) {
    collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string): ProjectionGauge =>
      new Gauge({ name, help, labelNames: ['projection'], registers: [this.registry] });
    const unit = monitor.positionUnit;
    const counted = unit === 'events' ? 'events' : 'bytes of the event store log';
    this.checkpoint = gauge(
      'ledger_projection_checkpoint_position',
      `Position of the last event the projection applied, in ${counted} from the start of $all`,
    );
    this.lagBehind = gauge(
      `ledger_projection_lag_${unit}`,
      `Head of $all minus the projection checkpoint, in ${counted}`,
    );
    this.lagSeconds = gauge(
      'ledger_projection_lag_seconds',
      'Age of the oldest event the projection has not applied yet; 0 when caught up',
    );
    this.failed = gauge(
      'ledger_projection_failed',
      '1 when the projection stopped on an event it could not apply (see /health/ready)',
    );
    this.providerHealthGauges = new ProviderHealthGauges(this.registry);
    this.workBacklog = new WorkBacklogGauge(this.registry);
    // Read by prom-client at each scrape (collect): nothing to set in metrics().
    new StatusCheckBudgetGauges(this.registry, () => statusChecks.budgetState());
  }

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics: projection checkpoints, lag and failures' })
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiProblems()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  async metrics(): Promise<string> {
    // Set from one report before rendering, so every gauge of a scrape describes one moment.
    for (const report of await this.monitor.report()) {
      const labels = { projection: report.name };
      this.checkpoint.set(labels, this.monitor.checkpointOffset(report.checkpoint));
      this.lagBehind.set(labels, report.lag.behind);
      this.lagSeconds.set(labels, report.lag.seconds);
      this.failed.set(labels, report.error === null ? 0 : 1);
    }
    this.providerHealthGauges.set(this.providerHealth.report());
    this.workBacklog.set(await this.processManager.backlog());
    return this.registry.metrics();
  }
}
