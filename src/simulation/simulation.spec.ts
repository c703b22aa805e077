/**
 * The deterministic simulation in CI: seeds of the whole ledger with every fault class on, each
 * checked against every invariant, and the replay promise (one seed, run twice, writes the same
 * event log). A failing seed's message carries its replay command and trace.
 */
import { FAULT_CLASSES, FaultCounts } from './fault-plan';
import { SeedResult, runSeed } from './simulation-run';

/**
 * Seeds per CI run, and transactions per seed: a seed ends once it is quiescent, so a few hundred
 * run in about a minute on a quiet machine (README, "Deterministic simulation").
 */
const SEEDS = Number(process.env.SIMULATION_SEEDS ?? 300);
const TRANSACTIONS = 8;

function report(result: SeedResult): string {
  return [
    `seed ${result.seed}: ${result.violations.map((v) => `${v.invariant}: ${v.detail}`).join('; ')}`,
    ...result.trace,
    `replay: npm run simulate -- --seed ${result.seed} --transactions ${TRANSACTIONS} --faults ${result.plan.toArgument()}`,
  ].join('\n');
}

describe('the deterministic simulation', () => {
  it('replays a seed exactly: two runs write the same event log, event for event', async () => {
    const run = () => runSeed({ seed: 7, transactions: TRANSACTIONS, faults: { kind: 'all' } });
    const first = await run();
    const second = await run();

    expect(first.eventLog.split('\n').length).toBeGreaterThan(TRANSACTIONS * 3);
    expect(second.eventLog).toEqual(first.eventLog);
    expect(second.violations).toEqual(first.violations);
    expect(second.trace).toEqual(first.trace);
  }, 120_000);

  it('keeps every invariant on seed 36 with 200 transactions (send stalls must not chain)', async () => {
    // Each POST held by a stall drew a stall of its own as the stall ended: both nodes stayed
    // stopped from minute 6 to past the deadlines, and 57 transactions were neither final nor cases.
    const result = await runSeed({ seed: 36, transactions: 200, faults: { kind: 'mix' } });

    expect(result.faults.of('send-stall')).toBeGreaterThan(0);
    expect(result.violations).toEqual([]);
  }, 120_000);

  it(`keeps every invariant over ${SEEDS} seeds with every fault class on`, async () => {
    const faults = new FaultCounts();
    const failures: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = await runSeed({ seed, transactions: TRANSACTIONS, faults: { kind: 'all' } });
      faults.add(result.faults);
      if (result.violations.length > 0) failures.push(report(result));
    }

    expect(failures).toEqual([]);
    // The faults did strike: a fault injector that injects nothing would prove nothing.
    const struck = FAULT_CLASSES.filter((fault) => faults.of(fault) > 0);
    expect(struck).toEqual(
      expect.arrayContaining([
        'crash',
        'append-fail',
        'append-unknown',
        'webhook-forged',
        'send-stall',
      ]),
    );
  }, 600_000);
});
