import { parseArgs } from 'node:util';
import { FaultSelection, parseFaultSelection } from './fault-plan';

export interface SimulateArguments {
  /** The seeds to run: `--seed N` alone, or `--seeds K` from `--first-seed` (1) on. */
  seeds: number[];
  transactions: number;
  faults: FaultSelection;
  /** Print every seed's line, not only the failing ones. */
  verbose: boolean;
  /** Stop at the first failing seed (how many seeds a defect takes to show). */
  stopOnFailure: boolean;
}

export class SimulateArgumentsError extends Error {}

export const SIMULATE_USAGE =
  'npm run simulate -- [--seeds 1000] [--first-seed 1] [--seed N] [--transactions 200] ' +
  '[--faults mix|all|none|<class>,<class>] [--verbose] [--stop-on-failure]';

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new SimulateArgumentsError(`--${name} must be a positive integer, got ${text}`);
  }
  return value;
}

export function parseSimulateArguments(argv: string[]): SimulateArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        seeds: { type: 'string' },
        'first-seed': { type: 'string' },
        seed: { type: 'string' },
        transactions: { type: 'string' },
        faults: { type: 'string' },
        verbose: { type: 'boolean' },
        'stop-on-failure': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new SimulateArgumentsError(`${(error as Error).message}\nusage: ${SIMULATE_USAGE}`);
  }
  const single = values.seed === undefined ? null : positiveInteger('seed', values.seed, 1);
  const count = positiveInteger('seeds', values.seeds, 100);
  const first = positiveInteger('first-seed', values['first-seed'], 1);
  return {
    seeds: single === null ? Array.from({ length: count }, (_, index) => first + index) : [single],
    transactions: positiveInteger('transactions', values.transactions, 200),
    faults: parseFaultSelection(values.faults ?? 'mix'),
    verbose: values.verbose ?? single !== null,
    stopOnFailure: values['stop-on-failure'] ?? false,
  };
}
