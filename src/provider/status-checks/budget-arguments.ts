import type { BudgetSettings } from './status-check-budget.port';

/** Budget settings the adapters refuse with a RangeError before touching the stored budget. */
export function assertBudgetSettings(settings: BudgetSettings): void {
  const { ratePerSecond, minRatePerSecond } = settings;
  if (!(minRatePerSecond > 0 && minRatePerSecond <= ratePerSecond && isFinite(ratePerSecond))) {
    throw new RangeError(
      `Budget needs 0 < minRatePerSecond <= ratePerSecond, got ${minRatePerSecond} and ` +
        `${ratePerSecond}`,
    );
  }
}
