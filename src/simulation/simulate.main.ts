/**
 * `npm run simulate`: the deterministic simulation over many seeds (src/simulation). Prints a
 * line per failing seed with its replay command, its fault plan and the tail of its trace, then
 * the totals; exits 1 on any violation.
 */
import { performance } from 'node:perf_hooks';
import { FAULT_CLASSES, FaultCounts } from './fault-plan';
import { INVARIANTS, InvariantName } from './invariants';
import {
  SimulateArgumentsError,
  SimulateArguments,
  parseSimulateArguments,
} from './simulate-arguments';
import { SeedResult, digestOf, runSeed } from './simulation-run';

function replayCommand(result: SeedResult, transactions: number): string {
  return `npm run simulate -- --seed ${result.seed} --transactions ${transactions} --faults ${result.plan.toArgument()}`;
}

function printFailure(result: SeedResult, transactions: number): void {
  const lines = [
    `seed ${result.seed} FAILED: ${result.violations.length} violation(s)`,
    ...result.violations.slice(0, 10).map((v) => `  ${v.invariant}: ${v.detail}`),
    `  faults: ${result.plan.toArgument()}`,
    `  provider fault plan: ${result.providerPlan}`,
    '  last trace lines:',
    ...result.trace.map((line) => `    ${line}`),
    `  replay: ${replayCommand(result, transactions)}`,
  ];
  console.log(lines.join('\n'));
}

async function main(args: SimulateArguments): Promise<number> {
  const started = performance.now();
  const faults = new FaultCounts();
  const violations = new Map<InvariantName, number>();
  let transactions = 0;
  let simulatedMs = 0;
  let failed = 0;
  let ran = 0;
  for (const seed of args.seeds) {
    if (failed > 0 && args.stopOnFailure) break;
    ran += 1;
    const result = await runSeed({ seed, transactions: args.transactions, faults: args.faults });
    transactions += result.transactions;
    simulatedMs += result.simulatedMs;
    faults.add(result.faults);
    for (const { invariant } of result.violations) {
      violations.set(invariant, (violations.get(invariant) ?? 0) + 1);
    }
    if (result.violations.length > 0) {
      failed += 1;
      printFailure(result, args.transactions);
    } else if (args.verbose) {
      console.log(
        `seed ${seed} passed: ${result.transactions} transactions, ${(result.simulatedMs / 3_600_000).toFixed(2)} simulated hours, event log ${digestOf(result.eventLog)}, faults ${result.plan.toArgument()}`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rows: [string, string][] = [
    ['seeds', `${ran} (${failed} failed)`],
    ['simulated transactions', String(transactions)],
    ['simulated hours', (simulatedMs / 3_600_000).toFixed(1)],
    ['wall time', `${seconds.toFixed(1)} s`],
    ['seeds/s', (ran / seconds).toFixed(2)],
    ['simulated hours per real second', (simulatedMs / 3_600_000 / seconds).toFixed(2)],
    ...FAULT_CLASSES.map((fault): [string, string] => [
      `faults: ${fault}`,
      String(faults.of(fault)),
    ]),
    ...INVARIANTS.map((invariant): [string, string] => [
      `violations: ${invariant}`,
      String(violations.get(invariant) ?? 0),
    ]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n'));
  return failed > 0 ? 1 : 0;
}

let parsed: SimulateArguments;
try {
  parsed = parseSimulateArguments(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof SimulateArgumentsError)) throw error;
  console.error(error.message);
  process.exit(2);
}
// A seed that waits on something no timer or store will ever settle leaves Node nothing to do: it
// would end with code 0 as if every seed had passed. It is a failure.
let finished = false;
process.on('exit', () => {
  if (!finished) {
    console.error('the simulation stopped before its last seed: a seed waited on nothing');
    process.exitCode = 1;
  }
});
main(parsed).then(
  (code) => {
    finished = true;
    process.exit(code);
  },
  (error: unknown) => {
    finished = true;
    console.error(error);
    process.exit(1);
  },
);
