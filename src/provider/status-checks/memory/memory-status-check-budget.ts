import { assertEpochMs } from '../../../shared/argument-checks';
import { assertBudgetSettings } from '../budget-arguments';
import {
  BudgetState,
  BudgetStep,
  fullBudget,
  recoverBudget,
  slowDownBudget,
  takeToken,
} from '../status-check-budget';
import { BudgetDecision, BudgetSettings, StatusCheckBudget } from '../status-check-budget.port';

/**
 * The budget row itself, shared by every instance opened on it as SQLite's `budget` row is
 * shared by the processes of one machine, and outliving an instance dropped by a crash.
 */
export class MemoryBudgetStorage {
  /** Absent until first written; the pure functions never change a state, they return a new one. */
  state: BudgetState | undefined;
}

/**
 * The status-check budget in memory, for the simulator and fast tests (never a product default):
 * SqliteStatusCheckBudget's operations on the same pure budget arithmetic, each applied in one
 * synchronous step, as SQLite applies it under its write lock.
 */
export class MemoryStatusCheckBudget extends StatusCheckBudget {
  private closed = false;

  constructor(private readonly storage: MemoryBudgetStorage) {
    super();
  }

  override async take(now: number, settings: BudgetSettings): Promise<BudgetDecision> {
    assertEpochMs('now', now);
    assertBudgetSettings(settings);
    return this.changeBudget((stored) => {
      const { decision, next } = takeToken(stored ?? fullBudget(now, settings), now, settings);
      return { result: decision, next };
    });
  }

  override async slowDown(now: number, until: number, settings: BudgetSettings): Promise<void> {
    assertEpochMs('now', now);
    assertEpochMs('until', until);
    assertBudgetSettings(settings);
    this.changeBudget((stored) => ({
      result: undefined,
      next: slowDownBudget(stored ?? fullBudget(now, settings), now, until, settings),
    }));
  }

  override async recover(now: number, settings: BudgetSettings): Promise<void> {
    assertEpochMs('now', now);
    assertBudgetSettings(settings);
    this.changeBudget((stored) => ({
      result: undefined,
      // No state yet means the budget was never slowed down: nothing to recover.
      next: stored && recoverBudget(stored, now, settings),
    }));
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Closes this instance only: the budget stays for the others. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryStatusCheckBudget is closed');
  }

  /** Runs `step` on the stored budget and stores the `next` it returns. */
  private changeBudget<T>(step: BudgetStep<T>): T {
    this.assertOpen();
    const { result, next } = step(this.storage.state);
    if (next) this.storage.state = next;
    return result;
  }
}
