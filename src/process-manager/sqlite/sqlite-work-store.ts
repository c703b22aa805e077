import Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../shared/sqlite';
import {
  BudgetDecision,
  BudgetSettings,
  ClaimedWork,
  ScheduleChange,
  WorkItem,
  WorkKind,
  WorkStore,
} from '../work-store.port';

/** Each successful status check gives back this share of the configured rate after a slowdown. */
const RECOVERY_STEP = 0.1;

/**
 * Float noise ignored when rounding the next token's time up to whole milliseconds: a rate
 * recovered to 1.9999999999999998 puts it 500.00000000000006 ms after a grant, which means 500.
 */
const BUDGET_EPSILON_MS = 1e-6;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS work (
    transaction_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    -- Record<string, unknown> as JSON text (STRICT tables have no JSON type).
    payload TEXT NOT NULL,
    version INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    PRIMARY KEY (transaction_id, kind)
  ) STRICT, WITHOUT ROWID;

  CREATE INDEX IF NOT EXISTS work_by_due_at ON work (due_at);
  -- Only leased rows: few (the work in flight), and nextDueAt looks at all of them.
  CREATE INDEX IF NOT EXISTS work_leased ON work (lease_until) WHERE lease_until IS NOT NULL;

  -- Versions come from one store-wide counter, never from the row: a row deleted and scheduled
  -- again must not get back a version that an old claim still holds.
  CREATE TABLE IF NOT EXISTS work_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
  ) STRICT;
  INSERT OR IGNORE INTO work_version (id, last) VALUES (1, 0);

  CREATE TABLE IF NOT EXISTS pm_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS budget (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tokens REAL NOT NULL,
    updated_at INTEGER NOT NULL,
    rate REAL NOT NULL,
    blocked_until INTEGER NOT NULL
  ) STRICT;
`;

const WORK_COLUMNS = 'transaction_id, kind, due_at, payload';

interface WorkRow {
  transaction_id: string;
  kind: WorkKind;
  due_at: number;
  payload: string;
}

function toWorkItem(row: WorkRow): WorkItem {
  return {
    transactionId: row.transaction_id,
    kind: row.kind,
    dueAt: row.due_at,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

function assertEpochMs(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be an integer number of epoch milliseconds, got ${value}`);
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

function assertBudgetSettings(settings: BudgetSettings): void {
  const { ratePerSecond, minRatePerSecond } = settings;
  if (!(minRatePerSecond > 0 && minRatePerSecond <= ratePerSecond && isFinite(ratePerSecond))) {
    throw new RangeError(
      `Budget needs 0 < minRatePerSecond <= ratePerSecond, got ${minRatePerSecond} and ` +
        `${ratePerSecond}`,
    );
  }
}

// Functional core of the status-check budget: a token bucket holding at most one token.

/** The budget row: `tokens` held at `updatedAt`, refilling at `rate` per second. */
interface BudgetState {
  tokens: number;
  updatedAt: number;
  rate: number;
  /** Epoch ms until which every check is refused (the provider's ban); 0 when none. */
  blockedUntil: number;
}

function fullBudget(now: number, settings: BudgetSettings): BudgetState {
  return { tokens: 1, updatedAt: now, rate: settings.ratePerSecond, blockedUntil: 0 };
}

/** The state brought forward to `now`: tokens refilled up to the capacity of one. */
function refill(state: BudgetState, now: number, settings: BudgetSettings): BudgetState {
  // Settings may have changed since the row was written (a restart with new configuration).
  const rate = Math.min(Math.max(state.rate, settings.minRatePerSecond), settings.ratePerSecond);
  // Instances' clocks may disagree slightly: the bucket's time never runs backwards.
  const at = Math.max(now, state.updatedAt);
  const tokens = Math.min(1, state.tokens + ((at - state.updatedAt) * rate) / 1000);
  return { ...state, tokens, updatedAt: at, rate };
}

/** When the bucket, refilled to `state.updatedAt`, holds a whole token again. */
function tokenAvailableAt(state: BudgetState): number {
  return state.updatedAt + ((1 - state.tokens) * 1000) / state.rate;
}

/**
 * One budget operation: from the stored row (absent until first written), its result and the
 * state to store, if any.
 */
type BudgetStep<T> = (stored: BudgetState | undefined) => { result: T; next?: BudgetState | null };

/** Returns the decision and, when it changes the bucket, the state to store. */
function takeToken(
  stored: BudgetState,
  now: number,
  settings: BudgetSettings,
): { decision: BudgetDecision; next?: BudgetState } {
  if (now < stored.blockedUntil) {
    return { decision: { granted: false, retryAt: stored.blockedUntil } };
  }
  const state = refill(stored, now, settings);
  // Grants and retryAt both follow from this one whole-millisecond time, so they always agree.
  const nextTokenAt = Math.ceil(tokenAvailableAt(state) - BUDGET_EPSILON_MS);
  if (now < nextTokenAt) {
    // A refusal stores nothing: polling often costs no write.
    return { decision: { granted: false, retryAt: nextTokenAt } };
  }
  return { decision: { granted: true }, next: { ...state, tokens: 0 } };
}

/**
 * A 429 halves the rate once per ban: instances whose checks were already in flight report the
 * same ban, and those reports arrive while it is on, so they only extend it. The ban ends with one
 * token ready, so the first check is allowed at `until`.
 */
function slowDownBudget(
  stored: BudgetState,
  now: number,
  until: number,
  settings: BudgetSettings,
): BudgetState {
  const state = refill(stored, now, settings);
  const alreadyBlocked = now < state.blockedUntil;
  const rate = alreadyBlocked ? state.rate : Math.max(settings.minRatePerSecond, state.rate / 2);
  const blockedUntil = Math.max(state.blockedUntil, until);
  return { tokens: 1, updatedAt: blockedUntil, rate, blockedUntil };
}

/**
 * Each successful check raises the rate by RECOVERY_STEP of the configured rate, up to it: from
 * half the rate, five successes restore it. Returns null when there is nothing to change: the
 * rate is already the configured one, or a ban is on (a check sent before it does not end it).
 */
function recoverBudget(
  stored: BudgetState,
  now: number,
  settings: BudgetSettings,
): BudgetState | null {
  if (now < stored.blockedUntil) return null;
  const state = refill(stored, now, settings);
  const configured = settings.ratePerSecond;
  if (state.rate >= configured) return null;
  return { ...state, rate: Math.min(configured, state.rate + configured * RECOVERY_STEP) };
}

// Imperative shell.

/**
 * The embedded work store: one SQLite file in WAL mode, shared by every process of one machine.
 *
 * synchronous=FULL syncs every commit. The work could be derived again from the event store
 * through the checkpoint, but what changed since is not harmless to lose on a power cut: a
 * completed item coming back repeats a provider call, a forgotten grant lets more status checks
 * through than the provider allows. These writes are few (a handful per provider call), so one fsync each is cheap.
 *
 * Read-modify-write operations (claim, reschedule, budget) run in BEGIN IMMEDIATE transactions:
 * the write lock is taken before reading, so two processes never decide on the same state, and a
 * waiting process queues under busy_timeout instead of failing on a lock upgrade.
 */
export class SqliteWorkStore extends WorkStore {
  private readonly db: Database.Database;

  private readonly selectCheckpoint: Database.Statement<[], bigint>;
  private readonly upsertCheckpoint: Database.Statement<[bigint]>;
  private readonly allocateVersions: Database.Statement<[number], number>;
  private readonly upsertWork: Database.Statement<[string, string, number, string, number]>;
  private readonly deleteWorkOfKinds: Database.Statement<[string, string]>;
  private readonly selectClaimable: Database.Statement<[number, number, number], WorkRow>;
  private readonly leaseWork: Database.Statement<[number, string, number, string, string]>;
  private readonly extendLease: Database.Statement<[number, string, string, number, string]>;
  private readonly deleteWorkVersion: Database.Statement<[string, string, number]>;
  private readonly moveWork: Database.Statement<
    [number, string | null, number, string, string, number]
  >;
  private readonly selectEarliestUnleased: Database.Statement<[], number>;
  private readonly selectEarliestLeaseEnd: Database.Statement<[], number | null>;
  private readonly selectPending: Database.Statement<[string], WorkRow>;
  private readonly selectBudget: Database.Statement<[], BudgetState>;
  private readonly upsertBudget: Database.Statement<[BudgetState]>;
  private readonly selectOne: Database.Statement<[]>;

  private readonly writeCommit: Database.Transaction<
    (change: ScheduleChange, checkpoint: bigint) => void
  >;
  private readonly writeClaim: Database.Transaction<
    (owner: string, now: number, leaseMs: number, limit: number) => ClaimedWork[]
  >;
  private readonly writeReschedule: Database.Transaction<
    (work: ClaimedWork, dueAt: number, payload: string | null) => void
  >;
  private readonly budgetTransaction: Database.Transaction<(step: BudgetStep<unknown>) => unknown>;

  constructor(options: { path: string }) {
    super();
    this.db = openSqliteDatabase(options.path, 'FULL');
    this.db.exec(SCHEMA);

    // Positions may exceed 2^53: the checkpoint is read as a bigint. Every other number here
    // (epoch ms, versions) stays far below it.
    this.selectCheckpoint = this.db
      .prepare<[], bigint>('SELECT position FROM pm_checkpoint WHERE id = 1')
      .pluck()
      .safeIntegers(true);
    this.upsertCheckpoint = this.db.prepare(
      `INSERT INTO pm_checkpoint (id, position) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET position = excluded.position`,
    );
    this.allocateVersions = this.db
      .prepare<[number], number>('UPDATE work_version SET last = last + ? RETURNING last')
      .pluck();
    // A new plan is a new item: new version, no lease. The old claim can no longer renew,
    // complete or reschedule it, and the new plan runs at its own dueAt.
    this.upsertWork = this.db.prepare(
      `INSERT INTO work (transaction_id, kind, due_at, payload, version) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (transaction_id, kind) DO UPDATE SET
         due_at = excluded.due_at,
         payload = excluded.payload,
         version = excluded.version,
         lease_owner = NULL,
         lease_until = NULL`,
    );
    this.deleteWorkOfKinds = this.db.prepare(
      'DELETE FROM work WHERE transaction_id = ? AND kind IN (SELECT value FROM json_each(?))',
    );
    // A lease is valid while now < lease_until, so at lease_until the item is free again.
    this.selectClaimable = this.db.prepare(
      `SELECT ${WORK_COLUMNS} FROM work
       WHERE due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
       ORDER BY due_at, transaction_id, kind
       LIMIT ?`,
    );
    this.leaseWork = this.db.prepare(
      `UPDATE work SET version = ?, lease_owner = ?, lease_until = ?
       WHERE transaction_id = ? AND kind = ?`,
    );
    // The version alone proves the claim (it changes on every claim and plan); the owner is
    // checked too, so a forged or mixed-up ClaimedWork cannot extend someone else's lease.
    this.extendLease = this.db.prepare(
      `UPDATE work SET lease_until = ?
       WHERE transaction_id = ? AND kind = ? AND version = ? AND lease_owner = ?`,
    );
    this.deleteWorkVersion = this.db.prepare(
      'DELETE FROM work WHERE transaction_id = ? AND kind = ? AND version = ?',
    );
    this.moveWork = this.db.prepare(
      `UPDATE work SET due_at = ?, payload = COALESCE(?, payload), version = ?,
         lease_owner = NULL, lease_until = NULL
       WHERE transaction_id = ? AND kind = ? AND version = ?`,
    );
    this.selectEarliestUnleased = this.db
      .prepare<[], number>(
        'SELECT due_at FROM work WHERE lease_until IS NULL ORDER BY due_at LIMIT 1',
      )
      .pluck();
    this.selectEarliestLeaseEnd = this.db
      .prepare<[], number | null>(
        'SELECT MIN(MAX(due_at, lease_until)) FROM work WHERE lease_until IS NOT NULL',
      )
      .pluck();
    this.selectPending = this.db.prepare(
      `SELECT ${WORK_COLUMNS} FROM work WHERE transaction_id = ? ORDER BY due_at, kind`,
    );
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

    this.writeCommit = this.db.transaction((change: ScheduleChange, checkpoint: bigint) => {
      // Cancels first: a batch that cancels a kind and plans it again keeps the new plan.
      for (const { transactionId, kinds } of change.cancel) {
        this.deleteWorkOfKinds.run(transactionId, JSON.stringify(kinds));
      }
      let version = this.takeVersions(change.schedule.length);
      for (const item of change.schedule) {
        assertEpochMs('dueAt', item.dueAt);
        const payload = JSON.stringify(item.payload);
        this.upsertWork.run(item.transactionId, item.kind, item.dueAt, payload, version++);
      }
      this.upsertCheckpoint.run(checkpoint);
    });
    this.writeClaim = this.db.transaction(
      (owner: string, now: number, leaseMs: number, limit: number) => {
        const rows = this.selectClaimable.all(now, now, limit);
        let version = this.takeVersions(rows.length);
        const leaseUntil = now + leaseMs;
        return rows.map((row): ClaimedWork => {
          const claimed = { ...toWorkItem(row), version: version++, leaseOwner: owner, leaseUntil };
          this.leaseWork.run(claimed.version, owner, leaseUntil, row.transaction_id, row.kind);
          return claimed;
        });
      },
    );
    this.writeReschedule = this.db.transaction(
      (work: ClaimedWork, dueAt: number, payload: string | null) => {
        const version = this.takeVersions(1);
        this.moveWork.run(dueAt, payload, version, work.transactionId, work.kind, work.version);
      },
    );
    this.budgetTransaction = this.db.transaction((step: BudgetStep<unknown>) => {
      const { result, next } = step(this.selectBudget.get());
      if (next) this.upsertBudget.run(next);
      return result;
    });
  }

  override async checkpoint(): Promise<bigint | null> {
    return this.selectCheckpoint.get() ?? null;
  }

  /**
   * Without its own fsync: a plan lost to a power cut goes with its checkpoint, so the planner
   * derives it again from the event store. The next FULL commit (a claim, a completion) syncs
   * the log up to here anyway. bench:accept found one fsync per planner batch costly.
   */
  override async commit(change: ScheduleChange, checkpoint: bigint): Promise<void> {
    this.db.pragma('synchronous = NORMAL');
    try {
      this.writeCommit.immediate(change, checkpoint);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  override async claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedWork[]> {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    assertPositiveInteger('limit', limit);
    return this.writeClaim.immediate(owner, now, leaseMs, limit);
  }

  override async renewLease(work: ClaimedWork, now: number, leaseMs: number): Promise<boolean> {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    const { changes } = this.extendLease.run(
      now + leaseMs,
      work.transactionId,
      work.kind,
      work.version,
      work.leaseOwner,
    );
    return changes === 1;
  }

  override async complete(work: ClaimedWork): Promise<void> {
    this.deleteWorkVersion.run(work.transactionId, work.kind, work.version);
  }

  override async reschedule(
    work: ClaimedWork,
    dueAt: number,
    payload?: Record<string, unknown>,
  ): Promise<void> {
    assertEpochMs('dueAt', dueAt);
    const payloadJson = payload === undefined ? null : JSON.stringify(payload);
    this.writeReschedule.immediate(work, dueAt, payloadJson);
  }

  /**
   * When claimDue can next return something: an item's dueAt, or for a leased item the end of
   * its lease if later. A plain minimum of dueAt would wake the executor in a loop for as long as
   * it works on an item that was already due.
   */
  override async nextDueAt(): Promise<number | null> {
    const unleased = this.selectEarliestUnleased.get();
    const leaseEnd = this.selectEarliestLeaseEnd.get();
    const candidates = [unleased, leaseEnd].filter((time) => typeof time === 'number');
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }

  override async pending(transactionId: string): Promise<WorkItem[]> {
    return this.selectPending.all(transactionId).map(toWorkItem);
  }

  override async takeStatusCheck(now: number, settings: BudgetSettings): Promise<BudgetDecision> {
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
      // No row yet means the budget was never slowed down: nothing to recover.
      next: stored && recoverBudget(stored, now, settings),
    }));
  }

  override async ping(): Promise<void> {
    this.selectOne.get();
  }

  override async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Runs `step` on the budget row under the write lock and stores the `next` it returns. */
  private changeBudget<T>(step: BudgetStep<T>): T {
    // better-sqlite3's Transaction type cannot carry the step's generic result through.
    return this.budgetTransaction.immediate(step) as T;
  }

  /** Reserves `count` versions from the store-wide counter; returns the first. */
  private takeVersions(count: number): number {
    const last = this.allocateVersions.get(count);
    if (last === undefined) throw new Error('work_version has no row');
    return last - count + 1;
  }
}
