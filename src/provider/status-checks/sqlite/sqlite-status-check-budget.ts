import Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../../sqlite/sqlite';
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

/** The table has been in the work store's file (`work.sqlite`) since its first schema. */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS budget (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tokens REAL NOT NULL,
    updated_at INTEGER NOT NULL,
    rate REAL NOT NULL,
    blocked_until INTEGER NOT NULL
  ) STRICT;
`;

// Imperative shell.

/**
 * The embedded status-check budget: one row in the SQLite file the work store uses, on its own
 * connection, shared by every process of one machine.
 *
 * synchronous=FULL syncs every change: a grant forgotten in a power cut lets more status checks
 * through than the provider allows.
 *
 * Each change runs in a BEGIN IMMEDIATE transaction: the write lock is taken before reading, so
 * two processes never decide on the same state, and a waiting process queues under busy_timeout
 * instead of failing on a lock upgrade.
 */
export class SqliteStatusCheckBudget extends StatusCheckBudget {
  private readonly db: Database.Database;
  private readonly selectBudget: Database.Statement<[], BudgetState>;
  private readonly upsertBudget: Database.Statement<[BudgetState]>;
  private readonly selectOne: Database.Statement<[]>;
  private readonly budgetTransaction: Database.Transaction<(step: BudgetStep<unknown>) => unknown>;

  constructor(options: { path: string }) {
    super();
    this.db = openSqliteDatabase(options.path, 'FULL');
    this.db.exec(SCHEMA);
    this.selectBudget = this.db.prepare(
      `SELECT tokens, updated_at AS updatedAt, rate, blocked_until AS blockedUntil
       FROM budget WHERE id = 1`,
    );
    this.upsertBudget = this.db.prepare(
      `INSERT INTO budget (id, tokens, updated_at, rate, blocked_until)
       VALUES (1, @tokens, @updatedAt, @rate, @blockedUntil)
       ON CONFLICT (id) DO UPDATE SET
         tokens = excluded.tokens,
         updated_at = excluded.updated_at,
         rate = excluded.rate,
         blocked_until = excluded.blocked_until`,
    );
    this.selectOne = this.db.prepare('SELECT 1');
    this.budgetTransaction = this.db.transaction((step: BudgetStep<unknown>) => {
      const { result, next } = step(this.selectBudget.get());
      if (next) this.upsertBudget.run(next);
      return result;
    });
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

  /** A plain read outside the write lock: it must not queue behind, or delay, any take. */
  override async state(now: number, settings: BudgetSettings): Promise<BudgetReading> {
    return stateStep(now, settings)(this.selectBudget.get()).result;
  }

  async ping(): Promise<void> {
    this.selectOne.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Runs `step` on the budget row under the write lock and stores the `next` it returns. */
  private changeBudget<T>(step: BudgetStep<T>): T {
    // better-sqlite3's Transaction type cannot carry the step's generic result through.
    return this.budgetTransaction.immediate(step) as T;
  }
}
