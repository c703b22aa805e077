import { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../../../mongodb/duplicate-key';
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

/** The collection's name from when it was part of the work store, beside its other collections. */
export const BUDGET_COLLECTION = 'work_budget';

const BUDGET_ID = 'status-checks';

/**
 * Rounds of read, decide, conditional write on the budget document before giving up. Each round
 * that fails lost to a write that succeeded, and a refusal writes nothing, so a caller needs more
 * than a few only when many instances are granted checks at the same moment.
 */
const BUDGET_ATTEMPTS = 100;

/**
 * The budget document: the pure budget functions' state as it is, under a revision that every
 * write checks and increments (optimistic concurrency between instances).
 */
export interface BudgetDocument {
  _id: string;
  revision: number;
  state: BudgetState;
}

/**
 * The scaled-out status-check budget: one document in the MongoDB database the read model uses,
 * shared by every instance, changed under optimistic concurrency (a revision).
 *
 * The store does not own the MongoClient (MongoConnectionModule does): close() only stops this
 * handle from being used.
 */
export class MongoStatusCheckBudget extends StatusCheckBudget {
  private readonly budget: Collection<BudgetDocument>;
  private closed = false;

  constructor(private readonly db: Db) {
    super();
    this.budget = db.collection<BudgetDocument>(BUDGET_COLLECTION);
  }

  override async take(now: number, settings: BudgetSettings): Promise<BudgetDecision> {
    return this.changeBudget(takeStep(now, settings));
  }

  override async slowDown(now: number, until: number, settings: BudgetSettings): Promise<void> {
    await this.changeBudget(slowDownStep(now, until, settings));
  }

  override async recover(now: number, settings: BudgetSettings): Promise<void> {
    await this.changeBudget(recoverStep(now, settings));
  }

  /** One read: the step stores nothing, so changeBudget never writes or retries for it. */
  override async state(now: number, settings: BudgetSettings): Promise<BudgetReading> {
    return this.changeBudget(stateStep(now, settings));
  }

  async ping(): Promise<void> {
    this.collection();
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private collection(): Collection<BudgetDocument> {
    if (this.closed) throw new Error('The MongoDB status-check budget is closed');
    return this.budget;
  }

  /**
   * Runs `step` on the stored budget and stores the `next` it returns, unless another instance
   * changed the budget since it was read; then it starts again from what that instance stored.
   */
  private async changeBudget<T>(step: BudgetStep<T>): Promise<T> {
    const budget = this.collection();
    for (let attempt = 0; attempt < BUDGET_ATTEMPTS; attempt += 1) {
      const stored = await budget.findOne({ _id: BUDGET_ID });
      const { result, next } = step(stored?.state);
      if (!next || (await this.storeBudget(stored, next))) return result;
    }
    throw new Error(`The status-check budget changed under ${BUDGET_ATTEMPTS} attempts in a row`);
  }

  /** Writes `next` if the budget is still as `read`; false when another instance got there first. */
  private async storeBudget(read: BudgetDocument | null, next: BudgetState): Promise<boolean> {
    if (read === null) {
      try {
        await this.budget.insertOne({ _id: BUDGET_ID, revision: 1, state: next });
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) return false;
        throw error;
      }
    }
    const { matchedCount } = await this.budget.updateOne(
      { _id: BUDGET_ID, revision: read.revision },
      { $set: { state: next, revision: read.revision + 1 } },
    );
    return matchedCount === 1;
  }
}
