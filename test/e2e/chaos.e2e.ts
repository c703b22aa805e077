import { join } from 'node:path';
import {
  ChaosReport,
  DEFAULT_CHAOS_OPTIONS,
  INVARIANTS,
  runChaos,
} from '../../bench/support/chaos-run';

const TRANSACTIONS = 150;
const KILLS = 4;
const PAUSES = 2;

/**
 * `npm run chaos` in small: two real service processes on one embedded data directory and the
 * provider simulator as its own process, with instances SIGKILLed and SIGSTOPped while phones
 * pay. Kills and pauses are due at drawn transaction counts and every wait is on a condition
 * (bounded by the reconciliation deadline), so the machine's speed changes how long it takes,
 * not what it checks. `npm test` builds dist/ first (pretest); run `npm run build` to run it alone.
 */
describe('chaos run of real processes', () => {
  let report: ChaosReport;

  beforeAll(async () => {
    report = await runChaos(
      {
        ...DEFAULT_CHAOS_OPTIONS,
        transactions: TRANSACTIONS,
        instances: 2,
        kills: KILLS,
        pauses: PAUSES,
        distDir: join(__dirname, '..', '..', 'dist'),
      },
      new AbortController().signal,
    );
  }, 240_000);

  it('kills, restarts and pauses instances while every transaction is paid', () => {
    expect([report.kills, report.restarts, report.pauses]).toEqual([KILLS, KILLS, PAUSES]);
    expect(report.transactions.accepted).toBe(TRANSACTIONS);
    expect(report.client.duplicates).toBeGreaterThan(0);
  });

  it('breaks no invariant: one charge, the truth, the budget, nothing lost, the audit, no 500', () => {
    expect(report.violations).toEqual(Object.fromEntries(INVARIANTS.map((name) => [name, []])));
    expect(report.pass).toBe(true);
  });
});
