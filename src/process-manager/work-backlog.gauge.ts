import { Gauge, Registry } from 'prom-client';
import type { WorkBacklog } from './work-queue.port';

export const WORK_DUE_METRIC = 'ledger_work_due';

/** The work store's backlog as one Prometheus gauge, labelled by kind of work. */
export class WorkBacklogGauge {
  private readonly gauge: Gauge<'kind'>;

  constructor(registry: Registry) {
    this.gauge = new Gauge({
      name: WORK_DUE_METRIC,
      help:
        'Process-manager work items due now (waiting or in hand), per kind of work; ' +
        'kind="parked": items parked for support, due or not',
      labelNames: ['kind'],
      registers: [registry],
    });
  }

  set(backlog: WorkBacklog): void {
    for (const [kind, count] of Object.entries(backlog)) this.gauge.set({ kind }, count);
  }
}
