import { Gauge, Registry } from 'prom-client';
import { PROVIDER_HEALTH_STATES, Percentiles, ProviderHealthFigures } from './provider-health';
import type { ProviderHealthReport } from './provider-health.service';
import { FINAL_PATHS } from './provider-observations';

/** The names deploy/grafana-provider-health.json reads; a test checks each is in /metrics. */
export const PROVIDER_HEALTH_METRICS = {
  state: 'ledger_provider_health_state',
  submissions: 'ledger_provider_submissions',
  answerLatency: 'ledger_provider_answer_latency_seconds',
  gatewayTimeoutShare: 'ledger_provider_gateway_timeout_share',
  ownTimeoutShare: 'ledger_provider_own_timeout_share',
  lostAttempts: 'ledger_provider_lost_attempts',
  webhookDelay: 'ledger_provider_webhook_delay_seconds',
  statusChecks: 'ledger_provider_status_checks',
  rateLimitedChecks: 'ledger_provider_rate_limited_checks',
  timeToFinal: 'ledger_provider_time_to_final_seconds',
} as const;

const QUANTILES = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.99', 'p99'],
] as const;

/**
 * The provider health figures as Prometheus gauges, per window (`recent`: the short one that
 * decides the state, `usual`: the long one). A percentile with no sample in its window is not
 * exported rather than exported as 0.
 */
export class ProviderHealthGauges {
  private readonly gauges: Record<keyof typeof PROVIDER_HEALTH_METRICS, Gauge>;

  constructor(registry: Registry) {
    const gauge = (name: string, help: string, labelNames: string[]) =>
      new Gauge({ name, help, labelNames, registers: [registry] });
    const m = PROVIDER_HEALTH_METRICS;
    this.gauges = {
      state: gauge(m.state, '1 for the provider health state now, 0 for the others', ['state']),
      submissions: gauge(m.submissions, 'Submissions that ended in the window', ['window']),
      answerLatency: gauge(m.answerLatency, 'Submission answer latency', ['window', 'quantile']),
      gatewayTimeoutShare: gauge(m.gatewayTimeoutShare, 'Share of submissions answered 504', [
        'window',
      ]),
      ownTimeoutShare: gauge(m.ownTimeoutShare, 'Share of submissions we stopped waiting on', [
        'window',
      ]),
      lostAttempts: gauge(m.lostAttempts, 'Attempts proved lost in the window', ['window']),
      webhookDelay: gauge(m.webhookDelay, 'Attempt start to settling webhook', [
        'window',
        'quantile',
      ]),
      statusChecks: gauge(m.statusChecks, 'Status checks made in the window', ['window']),
      rateLimitedChecks: gauge(m.rateLimitedChecks, 'Status checks answered 429 in the window', [
        'window',
      ]),
      timeToFinal: gauge(m.timeToFinal, 'Request to final status, per path', [
        'window',
        'path',
        'quantile',
      ]),
    };
  }

  set(report: ProviderHealthReport): void {
    for (const state of PROVIDER_HEALTH_STATES) {
      this.gauges.state.set({ state }, state === report.state ? 1 : 0);
    }
    this.setWindow('recent', report.recent);
    this.setWindow('usual', report.usual);
  }

  private setWindow(window: string, figures: ProviderHealthFigures): void {
    const g = this.gauges;
    g.submissions.set({ window }, figures.submissions);
    g.gatewayTimeoutShare.set({ window }, figures.gatewayTimeoutShare);
    g.ownTimeoutShare.set({ window }, figures.ownTimeoutShare);
    g.lostAttempts.set({ window }, figures.lostAttempts);
    g.statusChecks.set({ window }, figures.statusChecks);
    g.rateLimitedChecks.set({ window }, figures.rateLimitedChecks);
    setQuantiles(g.answerLatency, { window }, figures.answerLatencyMs);
    setQuantiles(g.webhookDelay, { window }, figures.webhookDelayMs);
    for (const path of [...FINAL_PATHS, 'all' as const]) {
      setQuantiles(g.timeToFinal, { window, path }, figures.timeToFinalMs[path]);
    }
  }
}

function setQuantiles(
  gauge: Gauge,
  labels: Record<string, string>,
  values: Percentiles | null,
): void {
  for (const [quantile, key] of QUANTILES) {
    if (values) gauge.set({ ...labels, quantile }, values[key] / 1000);
    else gauge.remove({ ...labels, quantile });
  }
}
