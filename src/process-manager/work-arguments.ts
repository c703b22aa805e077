import type { BudgetSettings } from './work-store.port';

/** Argument checks shared by the work store adapters: a bad value is a RangeError, never stored. */

export function assertEpochMs(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be an integer number of epoch milliseconds, got ${value}`);
  }
}

export function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

export function assertBudgetSettings(settings: BudgetSettings): void {
  const { ratePerSecond, minRatePerSecond } = settings;
  if (!(minRatePerSecond > 0 && minRatePerSecond <= ratePerSecond && isFinite(ratePerSecond))) {
    throw new RangeError(
      `Budget needs 0 < minRatePerSecond <= ratePerSecond, got ${minRatePerSecond} and ` +
        `${ratePerSecond}`,
    );
  }
}
