import {
  BudgetState,
  BudgetStep,
  recoverStep,
  slowDownStep,
  stateStep,
  takeStep,
} from '../status-check-budget';
import {
  BudgetDecision,
  BudgetReading,
  BudgetSettings,
  StatusCheckBudget,
} from '../status-check-budget.port';

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
    return this.changeBudget(takeStep(now, settings));
  }

  override async slowDown(now: number, until: number, settings: BudgetSettings): Promise<void> {
    this.changeBudget(slowDownStep(now, until, settings));
  }

  override async recover(now: number, settings: BudgetSettings): Promise<void> {
    this.changeBudget(recoverStep(now, settings));
  }

  override async state(now: number, settings: BudgetSettings): Promise<BudgetReading> {
    return this.changeBudget(stateStep(now, settings));
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
