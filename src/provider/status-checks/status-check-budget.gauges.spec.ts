import { Registry } from 'prom-client';
import { MemoryBudgetStorage, MemoryStatusCheckBudget } from './memory/memory-status-check-budget';
import { STATUS_CHECK_BUDGET_METRICS, StatusCheckBudgetGauges } from './status-check-budget.gauges';
import type { BudgetReading } from './status-check-budget.port';

const settings = { ratePerSecond: 2, minRatePerSecond: 0.25 };
const T0 = 1_900_000_000_000;
const m = STATUS_CHECK_BUDGET_METRICS;

/** `name value` lines of a scrape, unlabelled gauges only. */
async function scrape(registry: Registry): Promise<Record<string, number>> {
  const lines = (await registry.metrics()).split('\n').filter((line) => /^ledger_\w+ /.test(line));
  return Object.fromEntries(lines.map((line) => line.split(' ')).map(([k, v]) => [k, Number(v)]));
}

describe('StatusCheckBudgetGauges', () => {
  let budget: MemoryStatusCheckBudget;
  let now: number;
  let reads: number;
  let registry: Registry;

  beforeEach(() => {
    budget = new MemoryStatusCheckBudget(new MemoryBudgetStorage());
    now = T0;
    reads = 0;
    registry = new Registry();
    new StatusCheckBudgetGauges(registry, () => {
      reads += 1;
      return budget.state(now, settings);
    });
  });

  it('shows the budget as it is when scraped, read once for every gauge', async () => {
    expect(await scrape(registry)).toEqual({
      [m.rate]: 2,
      [m.tokens]: 1,
      [m.blocked]: 0,
      [m.blockedUntil]: 0,
    });
    expect(reads).toBe(1);

    await budget.slowDown(T0, T0 + 60_000, settings);
    now = T0 + 1_000;

    expect(await scrape(registry)).toEqual({
      [m.rate]: 1,
      [m.tokens]: 0,
      [m.blocked]: 1,
      [m.blockedUntil]: (T0 + 60_000) / 1000,
    });
    expect(reads).toBe(2);
  });

  it('shows the slowed rate climbing back after the ban, with a spent token refilling', async () => {
    await budget.slowDown(T0, T0 + 10_000, settings);
    await budget.take(T0 + 10_000, settings);
    await budget.recover(T0 + 10_000, settings);
    now = T0 + 10_500;

    const figures = await scrape(registry);
    expect(figures[m.rate]).toBeCloseTo(1.2, 9);
    expect(figures[m.tokens]).toBeCloseTo(0.6, 9);
    expect(figures[m.blocked]).toBe(0);
  });

  it('says NaN (unknown) while the budget cannot be read, never a made-up 0, and reads again after', async () => {
    const failing = new Registry();
    let broken = true;
    new StatusCheckBudgetGauges(failing, async (): Promise<BudgetReading> => {
      if (broken) throw new Error('SQLITE_BUSY');
      return budget.state(now, settings);
    });

    expect(await scrape(failing)).toEqual({
      [m.rate]: NaN,
      [m.tokens]: NaN,
      [m.blocked]: NaN,
      [m.blockedUntil]: NaN,
    });
    broken = false;
    expect(await scrape(failing)).toMatchObject({ [m.rate]: 2, [m.blocked]: 0 });
  });
});
