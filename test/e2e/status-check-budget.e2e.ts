import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { STATUS_CHECK_BUDGET_METRICS as M } from '../../src/provider/status-checks/status-check-budget.gauges';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { until } from '../support/polling';
import { ServiceHarness } from '../support/service-harness';

interface BudgetDetails {
  status: string;
  ratePerSecond: number;
  configuredRatePerSecond: number;
  tokens: number;
  blockedUntil: string | null;
  nextCheckAt: string;
}

/** Checks per real second the compressed service is configured with (2 per provider second). */
const RATE = 2 / SCALE;
/** A 429 storm whose Retry-After (scaled to real seconds: 2,000) outlasts the test. */
const BAN_SECONDS = 100_000;

/**
 * The shared status-check budget as operators see it: /metrics and /health/ready show the rate in
 * force and the provider's ban, read from the store when asked, and the ban never makes the
 * instance unready.
 */
describe('the status-check budget on /metrics and /health/ready', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;

  beforeAll(async () => {
    simulator = await startProviderSimulator({ timeScale: SCALE, seed: 17 });
    service = await ServiceHarness.start(compressedServiceEnv(simulator.url));
  });

  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  const metric = async (name: string): Promise<number> => {
    const { text } = await service.call('GET', '/metrics');
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };
  const budgetOnReadiness = async () => {
    const ready = await service.call('GET', '/health/ready');
    const body = ready.body as { details: { statusCheckBudget: BudgetDetails } };
    return { status: ready.status, budget: body.details.statusCheckBudget };
  };

  it('shows the configured rate and no ban before any check', async () => {
    expect(await metric(M.rate)).toBe(RATE);
    expect(await metric(M.blocked)).toBe(0);
    expect(await metric(M.blockedUntil)).toBe(0);
    expect(await metric(M.tokens)).toBe(1);
    expect(await budgetOnReadiness()).toEqual({
      status: 200,
      budget: {
        status: 'up',
        ratePerSecond: RATE,
        configuredRatePerSecond: RATE,
        tokens: 1,
        blockedUntil: null,
        nextCheckAt: expect.any(String),
      },
    });
  });

  it('shows the ban and the halved rate once the provider answers a check 429, and stays ready', async () => {
    simulator.faults({
      periods: [
        { fault: 'rateLimitStorms', forSeconds: BAN_SECONDS, retryAfterSeconds: BAN_SECONDS },
      ],
    });
    const token = await service.token('alice');
    await service.fund({ owner: 'alice', currency: 'KES' });
    // A 504 leaves the transaction ambiguous: the process manager checks it after the gateway timeout.
    simulator.script({
      forceOutcomes: { [transactionIdFor('alice', 'checked')]: 'late-completed' },
    });
    const accepted = await service.call('POST', '/v1/transactions', {
      token,
      body: { id: 'checked', amount: 10, currency: 'KES', recipient: 'bob' },
    });
    expect(accepted.status).toBe(202);

    expect(
      await until(
        () => metric(M.blocked),
        (blocked) => blocked === 1,
      ),
    ).toBe(1);
    expect(simulator.truth().totals.statusChecks.rejected).toBeGreaterThanOrEqual(1);
    expect(await metric(M.rate)).toBe(RATE / 2);
    expect(await metric(M.tokens)).toBe(0);
    const { status, budget } = await budgetOnReadiness();
    expect(status).toBe(200);
    expect(budget).toMatchObject({ status: 'up', ratePerSecond: RATE / 2, tokens: 0 });
    const blockedUntil = Date.parse(budget.blockedUntil!);
    // Retry-After is whole real seconds from the 429, which came within the last few seconds.
    expect(blockedUntil - Date.now()).toBeGreaterThan(BAN_SECONDS * SCALE * 1000 - 60_000);
    expect(budget.nextCheckAt).toBe(budget.blockedUntil);
    expect(await metric(M.blockedUntil)).toBe(blockedUntil / 1000);
  });
});
