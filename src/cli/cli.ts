import { ConfigError } from '../config/app-config';

/** Thrown for a mistake of the caller: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** A flag's value as a positive integer, undefined when the flag was not given. */
export function positiveIntegerFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new UsageError(`${flag} must be a positive integer`);
  }
  return parsed;
}

/**
 * Runs a command-line tool and exits with its code: 2 with just the message for a caller's
 * mistake (usage or configuration), 1 with the whole error for anything else.
 */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const callersMistake = error instanceof UsageError || error instanceof ConfigError;
      console.error(callersMistake ? error.message : error);
      process.exit(callersMistake ? 2 : 1);
    },
  );
}
