import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceHarness } from '../support/service-harness';

const DASHBOARD = join(__dirname, '../../deploy/grafana-provider-health.json');

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

/** Every ledger_* metric a panel's query reads. */
function metricsUsed(dashboard: Dashboard): string[] {
  const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
  return [...new Set(exprs.flatMap((expr) => expr.match(/\bledger_[a-z_]+\b/g) ?? []))];
}

describe('the Grafana dashboard in deploy/', () => {
  let service: ServiceHarness;

  beforeAll(async () => {
    service = await ServiceHarness.start();
  });

  afterAll(async () => {
    await service?.close();
  });

  it('reads only metrics that /metrics exports', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const used = metricsUsed(dashboard);
    expect(used.length).toBeGreaterThanOrEqual(10);
    const response = await service.call('GET', '/metrics');
    const exported = new Set(
      [...response.text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]),
    );
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });
});
