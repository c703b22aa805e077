import Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import {
  MethodThread,
  Outcome,
  QueuedCall,
  WriteFailure,
  WriterThreadError,
  threadScript,
} from '../../sqlite/sqlite-writer-thread';
import { assertEpochMs, assertPositiveInteger } from '../../shared/argument-checks';
import {
  CheckpointedSchedule,
  PlannedBatch,
  ScheduleChange,
  StaleCheckpointError,
} from '../checkpointed-schedule.port';
import {
  ClaimedWork,
  ParkedWork,
  WORK_KINDS,
  WorkBacklog,
  emptyBacklog,
  WorkItem,
  WorkKind,
  WorkQueue,
  claimKeyOf,
} from '../work-queue.port';

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
`;

/**
 * Schema 2 parks work: a parked row keeps its place (a new plan for it replaces it as usual) but
 * is never claimed until support puts it back. Work files from schema 1 gain the two columns.
 */
const SCHEMA_VERSION = 2;
const PARKING_COLUMNS = ['parked_at INTEGER', 'parked_reason TEXT'];

/**
 * Made after the parking columns exist. Work in rotation by kind: the worker claims status
 * checks apart from the other kinds, and neither claim nor the backlog count may walk through a
 * backlog of the other kinds (100,000 due checks must not slow a submission's claim).
 */
const ROTATION_INDEXES = `
  CREATE INDEX IF NOT EXISTS work_in_rotation ON work (kind, due_at) WHERE parked_at IS NULL;
  CREATE INDEX IF NOT EXISTS work_parked ON work (parked_at) WHERE parked_at IS NOT NULL;
`;

const WORK_COLUMNS = 'transaction_id, kind, due_at, payload';

interface WorkRow {
  transaction_id: string;
  kind: WorkKind;
  due_at: number;
  payload: string;
}

interface ParkedRow extends WorkRow {
  parked_at: number;
  parked_reason: string;
}

/** One claim of one item, as renewLeases returns the ones it renewed. */
interface ClaimKey {
  transaction_id: string;
  kind: WorkKind;
  version: number;
}

/** ORDER BY due_at, transaction_id, kind (BINARY collation; ids are ASCII). */
function byClaimOrder(a: WorkRow, b: WorkRow): number {
  const text = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return a.due_at - b.due_at || text(a.transaction_id, b.transaction_id) || text(a.kind, b.kind);
}

function toWorkItem(row: WorkRow): WorkItem {
  return {
    transactionId: row.transaction_id,
    kind: row.kind,
    dueAt: row.due_at,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

// Imperative shell.

/**
 * The embedded work store's file, as its writer thread uses it (SqliteWorkStore below is the
 * event loop's side): the work queue and the planner's checkpointed schedule in one SQLite file
 * in WAL mode (`work.sqlite`), shared by every process of one machine. One class for the two
 * ports: the schedule's commit writes the queue's rows and versions in the same transaction.
 * The named leases' and the status-check budget's tables live in the same file, each written by
 * its own adapter (sqlite-named-leases.ts, provider/status-checks/sqlite).
 *
 * synchronous=FULL syncs every commit. The work could be derived again from the event store
 * through the checkpoint, but what changed since is not harmless to lose on a power cut: a
 * completed item coming back repeats a provider call.
 *
 * Read-modify-write operations (claim, reschedule) run in BEGIN IMMEDIATE transactions:
 * the write lock is taken before reading, so two processes never decide on the same state, and a
 * waiting process queues under busy_timeout instead of failing on a lock upgrade.
 */
export class SqliteWorkFile {
  private readonly db: Database.Database;

  private readonly selectCheckpoint: Database.Statement<[], bigint>;
  private readonly upsertCheckpoint: Database.Statement<[bigint]>;
  private readonly allocateVersions: Database.Statement<[number], number>;
  private readonly upsertWork: Database.Statement<[string, string, number, string, number]>;
  private readonly deleteWorkOfKinds: Database.Statement<[string, string]>;
  private readonly selectClaimable: Database.Statement<[WorkKind, number, number, number], WorkRow>;
  private readonly leaseWork: Database.Statement<[number, string, number, string, string]>;
  private readonly extendLeases: Database.Statement<[number, string, string], ClaimKey>;
  private readonly deleteWorkVersion: Database.Statement<[string, string, number]>;
  private readonly moveWork: Database.Statement<
    [number, string | null, number, string, string, number]
  >;
  private readonly selectEarliestUnleased: Database.Statement<[WorkKind], number>;
  private readonly selectEarliestLeaseEnd: Database.Statement<[string], number | null>;
  private readonly countDue: Database.Statement<[WorkKind, number], number>;
  private readonly countParked: Database.Statement<[], number>;
  private readonly selectPending: Database.Statement<[string], WorkRow>;
  private readonly selectParked: Database.Statement<[number], ParkedRow>;
  private readonly parkWork: Database.Statement<[number, string, number, string, string, number]>;
  private readonly unparkWork: Database.Statement<[number, number, string, string]>;
  private readonly selectOne: Database.Statement<[]>;

  private readonly writeCommit: Database.Transaction<
    (change: ScheduleChange, batch: PlannedBatch) => void
  >;
  private readonly writeClaim: Database.Transaction<
    (
      owner: string,
      now: number,
      leaseMs: number,
      limit: number,
      kinds: readonly WorkKind[],
    ) => ClaimedWork[]
  >;
  private readonly writeReschedule: Database.Transaction<
    (work: ClaimedWork, dueAt: number, payload: string | null) => void
  >;

  constructor(options: { path: string }) {
    this.db = openSqliteDatabase(options.path, 'FULL');
    this.openSchema();

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
         lease_until = NULL,
         parked_at = NULL,
         parked_reason = NULL`,
    );
    this.deleteWorkOfKinds = this.db.prepare(
      'DELETE FROM work WHERE transaction_id = ? AND kind IN (SELECT value FROM json_each(?))',
    );
    // A lease is valid while now < lease_until, so at lease_until the item is free again.
    // One kind at a time, in the order of work_in_rotation: a claim reads at most `limit` free
    // rows per kind, however many are due (several kinds in one IN would sort every due row).
    this.selectClaimable = this.db.prepare(
      `SELECT ${WORK_COLUMNS} FROM work
       WHERE kind = ? AND due_at <= ? AND parked_at IS NULL
         AND (lease_until IS NULL OR lease_until <= ?)
       ORDER BY due_at, transaction_id
       LIMIT ?`,
    );
    this.leaseWork = this.db.prepare(
      `UPDATE work SET version = ?, lease_owner = ?, lease_until = ?
       WHERE transaction_id = ? AND kind = ?`,
    );
    // The version alone proves the claim (it changes on every claim and plan); the owner is
    // checked too, so a forged or mixed-up ClaimedWork cannot extend someone else's lease.
    // Every claim in one statement: held is a JSON array of [transaction_id, kind, version].
    this.extendLeases = this.db.prepare(
      `UPDATE work SET lease_until = ?
       FROM (SELECT value ->> 0 AS t, value ->> 1 AS k, value ->> 2 AS v FROM json_each(?)) AS held
       WHERE transaction_id = held.t AND kind = held.k AND version = held.v AND lease_owner = ?
       RETURNING transaction_id, kind, version`,
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
      .prepare<[WorkKind], number>(
        `SELECT due_at FROM work WHERE kind = ? AND lease_until IS NULL AND parked_at IS NULL
         ORDER BY due_at LIMIT 1`,
      )
      .pluck();
    this.selectEarliestLeaseEnd = this.db
      .prepare<[string], number | null>(
        `SELECT MIN(MAX(due_at, lease_until)) FROM work
         WHERE lease_until IS NOT NULL AND kind IN (SELECT value FROM json_each(?))`,
      )
      .pluck();
    this.countDue = this.db
      .prepare<[WorkKind, number], number>(
        'SELECT COUNT(*) FROM work WHERE kind = ? AND due_at <= ? AND parked_at IS NULL',
      )
      .pluck();
    this.countParked = this.db
      .prepare<[], number>('SELECT COUNT(*) FROM work WHERE parked_at IS NOT NULL')
      .pluck();
    this.selectPending = this.db.prepare(
      `SELECT ${WORK_COLUMNS} FROM work WHERE transaction_id = ? ORDER BY due_at, kind`,
    );
    this.selectParked = this.db.prepare(
      `SELECT ${WORK_COLUMNS}, parked_at, parked_reason FROM work WHERE parked_at IS NOT NULL
       ORDER BY parked_at, transaction_id, kind LIMIT ?`,
    );
    this.parkWork = this.db.prepare(
      `UPDATE work SET parked_at = ?, parked_reason = ?, version = ?,
         lease_owner = NULL, lease_until = NULL
       WHERE transaction_id = ? AND kind = ? AND version = ?`,
    );
    this.unparkWork = this.db.prepare(
      `UPDATE work SET parked_at = NULL, parked_reason = NULL, due_at = ?, version = ?
       WHERE transaction_id = ? AND kind = ? AND parked_at IS NOT NULL`,
    );
    this.selectOne = this.db.prepare('SELECT 1');

    this.writeCommit = this.db.transaction((change: ScheduleChange, batch: PlannedBatch) => {
      const stored = this.selectCheckpoint.get();
      if (stored !== undefined && stored >= batch.firstPosition) {
        throw new StaleCheckpointError(stored, batch.firstPosition);
      }
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
      this.upsertCheckpoint.run(batch.checkpoint);
    });
    this.writeClaim = this.db.transaction(
      (owner: string, now: number, leaseMs: number, limit: number, kinds: readonly WorkKind[]) => {
        const rows = kinds
          .flatMap((kind) => this.selectClaimable.all(kind, now, now, limit))
          .sort(byClaimOrder)
          .slice(0, limit);
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
  }

  checkpoint(): bigint | null {
    return this.selectCheckpoint.get() ?? null;
  }

  /**
   * Without its own fsync: a plan lost to a power cut goes with its checkpoint, so the planner
   * derives it again from the event store. The next FULL commit (a claim, a completion) syncs
   * the log up to here anyway. bench:accept found one fsync per planner batch costly.
   */
  commit(change: ScheduleChange, batch: PlannedBatch): void {
    // With other calls (together), the batch's commit decides the sync.
    if (this.db.inTransaction) return this.writeCommit(change, batch);
    this.db.pragma('synchronous = NORMAL');
    try {
      this.writeCommit.immediate(change, batch);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /**
   * Calls that reached the thread together share one BEGIN IMMEDIATE transaction and one commit
   * (one fsync instead of one each), each call in a savepoint of its own: one that fails rolls
   * back only itself. An error that ends the whole transaction (a full disk, an I/O error) fails
   * every call. Planner commits alone stay without their fsync (commit says why).
   */
  together(calls: readonly QueuedCall[]): Outcome<unknown>[] {
    const durable = calls.some(({ method }) => method !== 'commit');
    const outcomes: Outcome<unknown>[] = [];
    const runAll = this.db.transaction(() => {
      for (const { run } of calls) {
        try {
          outcomes.push({ ok: true, reply: this.db.transaction(run)() });
        } catch (error) {
          if (!this.db.inTransaction) throw error;
          outcomes.push({ ok: false, error });
        }
      }
    });
    if (!durable) this.db.pragma('synchronous = NORMAL');
    try {
      runAll.immediate();
    } finally {
      if (!durable) this.db.pragma('synchronous = FULL');
    }
    return outcomes;
  }

  claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    kinds: readonly WorkKind[] = WORK_KINDS,
  ): ClaimedWork[] {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    assertPositiveInteger('limit', limit);
    return this.writeClaim.immediate(owner, now, leaseMs, limit, kinds);
  }

  renewLeases(
    owner: string,
    works: readonly ClaimedWork[],
    now: number,
    leaseMs: number,
  ): ClaimedWork[] {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    if (works.length === 0) return [];
    const held = JSON.stringify(works.map((work) => [work.transactionId, work.kind, work.version]));
    const renewed = new Set(
      this.extendLeases
        .all(now + leaseMs, held, owner)
        .map((row) =>
          claimKeyOf({ transactionId: row.transaction_id, kind: row.kind, version: row.version }),
        ),
    );
    return works.filter((work) => !renewed.has(claimKeyOf(work)));
  }

  complete(work: ClaimedWork): void {
    this.deleteWorkVersion.run(work.transactionId, work.kind, work.version);
  }

  reschedule(work: ClaimedWork, dueAt: number, payload?: Record<string, unknown>): void {
    assertEpochMs('dueAt', dueAt);
    const payloadJson = payload === undefined ? null : JSON.stringify(payload);
    this.writeReschedule.immediate(work, dueAt, payloadJson);
  }

  park(work: ClaimedWork, now: number, reason: string): void {
    assertEpochMs('now', now);
    this.db
      .transaction(() => {
        const version = this.takeVersions(1);
        this.parkWork.run(now, reason, version, work.transactionId, work.kind, work.version);
      })
      .immediate();
  }

  parkedWork(limit: number): ParkedWork[] {
    assertPositiveInteger('limit', limit);
    return this.selectParked.all(limit).map((row) => ({
      ...toWorkItem(row),
      parkedAt: row.parked_at,
      reason: row.parked_reason,
    }));
  }

  retryParked(transactionId: string, kind: WorkKind, now: number): boolean {
    assertEpochMs('now', now);
    return this.db
      .transaction(() => {
        const version = this.takeVersions(1);
        return this.unparkWork.run(now, version, transactionId, kind).changes === 1;
      })
      .immediate();
  }

  /**
   * When claimDue can next return something: an item's dueAt, or for a leased item the end of
   * its lease if later. A plain minimum of dueAt would wake the executor in a loop for as long as
   * it works on an item that was already due.
   */
  nextDueAt(kinds: readonly WorkKind[] = WORK_KINDS): number | null {
    const unleased = kinds.map((kind) => this.selectEarliestUnleased.get(kind));
    const leaseEnd = this.selectEarliestLeaseEnd.get(JSON.stringify(kinds));
    const candidates = [...unleased, leaseEnd].filter((time) => typeof time === 'number');
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }

  backlog(now: number): WorkBacklog {
    assertEpochMs('now', now);
    const backlog = emptyBacklog();
    for (const kind of WORK_KINDS) backlog[kind] = this.countDue.get(kind, now) ?? 0;
    backlog.parked = this.countParked.get() ?? 0;
    return backlog;
  }

  pending(transactionId: string): WorkItem[] {
    return this.selectPending.all(transactionId).map(toWorkItem);
  }

  ping(): void {
    this.selectOne.get();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Creates the schema, or brings a schema 1 file up to date without losing its work. */
  private openSchema(): void {
    this.db
      .transaction(() => {
        this.db.exec(SCHEMA);
        const version = Number(this.db.pragma('user_version', { simple: true }));
        if (version < SCHEMA_VERSION) {
          const columns = new Set(
            (this.db.pragma('table_info(work)') as { name: string }[]).map((column) => column.name),
          );
          for (const column of PARKING_COLUMNS) {
            if (!columns.has(column.split(' ')[0]))
              this.db.exec(`ALTER TABLE work ADD COLUMN ${column}`);
          }
          this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        }
        this.db.exec(ROTATION_INDEXES);
      })
      .immediate();
  }

  /** Reserves `count` versions from the store-wide counter; returns the first. */
  private takeVersions(count: number): number {
    const last = this.allocateVersions.get(count);
    if (last === undefined) throw new Error('work_version has no row');
    return last - count + 1;
  }
}

/** A refused call raises on the event loop the error its caller would get from the file. */
function errorOf(failure: WriteFailure): Error {
  const { stored, firstPosition } = failure.fields ?? {};
  if (
    failure.name === 'StaleCheckpointError' &&
    typeof stored === 'bigint' &&
    typeof firstPosition === 'bigint'
  ) {
    return new StaleCheckpointError(stored, firstPosition);
  }
  if (failure.name === 'RangeError') return new RangeError(failure.message);
  return new WriterThreadError(failure);
}

/**
 * The embedded work store (SqliteWorkFile) on a thread of its own. Every call, reads included,
 * runs there: better-sqlite3 is synchronous, and each claim, completion or reschedule commits with
 * an fsync, which on the event loop stopped request handling for its whole length. The loop only
 * posts the call and settles its promise; the thread runs the calls in the order they were made
 * (those that reach it while it is busy in one transaction: SqliteWorkFile.together), so a read
 * sees every write made before it through this store.
 *
 * If the thread dies, the calls in flight fail (a transaction it did not commit is rolled back
 * by SQLite) and the next call starts a new thread on the same file.
 */
export class SqliteWorkStore implements WorkQueue, CheckpointedSchedule {
  private readonly thread: MethodThread<SqliteWorkFile>;

  constructor(options: { path: string }) {
    // Made or brought up to date here, once: a file that cannot be opened fails the start, not
    // the first call, and the tables exist before any call (the thread finds them ready).
    new SqliteWorkFile(options).close();
    this.thread = new MethodThread<SqliteWorkFile>(
      'sqlite-work-store',
      threadScript(__dirname, 'sqlite-work-store.thread'),
      options,
      errorOf,
    );
  }

  checkpoint(...args: Parameters<SqliteWorkFile['checkpoint']>) {
    return this.thread.call('checkpoint', ...args);
  }
  commit(...args: Parameters<SqliteWorkFile['commit']>) {
    return this.thread.call('commit', ...args);
  }
  claimDue(...args: Parameters<SqliteWorkFile['claimDue']>) {
    return this.thread.call('claimDue', ...args);
  }
  renewLeases(...args: Parameters<SqliteWorkFile['renewLeases']>) {
    return this.thread.call('renewLeases', ...args);
  }
  complete(...args: Parameters<SqliteWorkFile['complete']>) {
    return this.thread.call('complete', ...args);
  }
  reschedule(...args: Parameters<SqliteWorkFile['reschedule']>) {
    return this.thread.call('reschedule', ...args);
  }
  park(...args: Parameters<SqliteWorkFile['park']>) {
    return this.thread.call('park', ...args);
  }
  parkedWork(...args: Parameters<SqliteWorkFile['parkedWork']>) {
    return this.thread.call('parkedWork', ...args);
  }
  retryParked(...args: Parameters<SqliteWorkFile['retryParked']>) {
    return this.thread.call('retryParked', ...args);
  }
  nextDueAt(...args: Parameters<SqliteWorkFile['nextDueAt']>) {
    return this.thread.call('nextDueAt', ...args);
  }
  backlog(...args: Parameters<SqliteWorkFile['backlog']>) {
    return this.thread.call('backlog', ...args);
  }
  pending(...args: Parameters<SqliteWorkFile['pending']>) {
    return this.thread.call('pending', ...args);
  }
  ping() {
    return this.thread.call('ping');
  }

  /** Lets the calls already made finish, then closes the file and ends the thread. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
