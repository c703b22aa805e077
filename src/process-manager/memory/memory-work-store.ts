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
  WorkItem,
  WorkKind,
  WorkQueue,
  byClaimOrder,
  emptyBacklog,
} from '../work-queue.port';

/** One row of SQLite's `work` table. */
interface WorkRow {
  transactionId: string;
  kind: WorkKind;
  dueAt: number;
  /** As JSON text, so that no caller shares an object with the store. */
  payloadJson: string;
  version: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  parkedAt: number | null;
  parkedReason: string | null;
}

/**
 * The queue and the checkpoint themselves, outliving any store opened on them: the simulator
 * opens several MemoryWorkStore instances on one storage, as processes share one `work.sqlite`,
 * and drops one (a crash) without losing the work.
 */
export class MemoryWorkStorage {
  /** By transaction id, then kind: (transactionId, kind) is the key, as in SQLite. */
  readonly rows = new Map<string, Map<WorkKind, WorkRow>>();
  /**
   * Versions come from one store-wide counter, never from the row: a row deleted and scheduled
   * again must not get back a version that an old claim still holds.
   */
  lastVersion = 0;
  checkpoint: bigint | null = null;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Park sets both parkedAt and parkedReason; a retry clears both. */
type ParkedRow = WorkRow & { parkedAt: number; parkedReason: string };

const byParkedAt = (a: ParkedRow, b: ParkedRow) =>
  a.parkedAt - b.parkedAt ||
  compareText(a.transactionId, b.transactionId) ||
  compareText(a.kind, b.kind);

function toWorkItem(row: WorkRow): WorkItem {
  return {
    transactionId: row.transactionId,
    kind: row.kind,
    dueAt: row.dueAt,
    payload: JSON.parse(row.payloadJson) as Record<string, unknown>,
  };
}

/**
 * The work queue and the planner's checkpointed schedule in memory, for the simulator and fast
 * tests (never a product default). Same semantics as SqliteWorkStore, statement for statement;
 * each call runs to completion synchronously, which is what a SQLite transaction guarantees.
 */
export class MemoryWorkStore implements WorkQueue, CheckpointedSchedule {
  private closed = false;

  constructor(private readonly storage: MemoryWorkStorage) {}

  async checkpoint(): Promise<bigint | null> {
    this.assertOpen();
    return this.storage.checkpoint;
  }

  async commit(change: ScheduleChange, batch: PlannedBatch): Promise<void> {
    this.assertOpen();
    const stored = this.storage.checkpoint;
    if (stored !== null && stored >= batch.firstPosition) {
      throw new StaleCheckpointError(stored, batch.firstPosition);
    }
    // Everything that can fail is done before the first change, so a failure lands nothing.
    const planned = change.schedule.map((item) => {
      assertEpochMs('dueAt', item.dueAt);
      return { ...item, payloadJson: JSON.stringify(item.payload) };
    });
    // Cancels first: a batch that cancels a kind and plans it again keeps the new plan.
    for (const { transactionId, kinds } of change.cancel) {
      for (const kind of kinds) this.deleteRow(transactionId, kind);
    }
    // A new plan is a new item: new version, no lease, not parked.
    for (const { transactionId, kind, dueAt, payloadJson } of planned) {
      this.setRow({
        transactionId,
        kind,
        dueAt,
        payloadJson,
        version: this.takeVersion(),
        leaseOwner: null,
        leaseUntil: null,
        parkedAt: null,
        parkedReason: null,
      });
    }
    this.storage.checkpoint = batch.checkpoint;
  }

  async claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    kinds: readonly WorkKind[] = WORK_KINDS,
  ): Promise<ClaimedWork[]> {
    this.assertOpen();
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    assertPositiveInteger('limit', limit);
    // A lease is valid while now < leaseUntil, so at leaseUntil the item is free again.
    const claimable = this.allRows()
      .filter(
        (row) =>
          row.dueAt <= now &&
          kinds.includes(row.kind) &&
          (row.leaseUntil === null || row.leaseUntil <= now) &&
          row.parkedAt === null,
      )
      // SQLite's ORDER BY due_at, transaction_id, kind: claim order is the same on every run.
      .sort(byClaimOrder)
      .slice(0, limit);
    return claimable.map((row): ClaimedWork => {
      row.version = this.takeVersion();
      row.leaseOwner = owner;
      row.leaseUntil = now + leaseMs;
      return {
        ...toWorkItem(row),
        version: row.version,
        leaseOwner: owner,
        leaseUntil: now + leaseMs,
      };
    });
  }

  async renewLeases(
    owner: string,
    works: readonly ClaimedWork[],
    now: number,
    leaseMs: number,
  ): Promise<ClaimedWork[]> {
    this.assertOpen();
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    // The version alone proves the claim; the owner is checked too, as SQLite does.
    return works.filter((work) => {
      const row = this.claimedRow(work);
      if (row === undefined || row.leaseOwner !== owner) return true;
      row.leaseUntil = now + leaseMs;
      return false;
    });
  }

  async complete(work: ClaimedWork): Promise<void> {
    this.assertOpen();
    if (this.claimedRow(work) !== undefined) this.deleteRow(work.transactionId, work.kind);
  }

  async reschedule(
    work: ClaimedWork,
    dueAt: number,
    payload?: Record<string, unknown>,
  ): Promise<void> {
    this.assertOpen();
    assertEpochMs('dueAt', dueAt);
    const payloadJson = payload === undefined ? undefined : JSON.stringify(payload);
    const row = this.claimedRow(work);
    if (row === undefined) return;
    row.dueAt = dueAt;
    row.payloadJson = payloadJson ?? row.payloadJson;
    row.version = this.takeVersion();
    row.leaseOwner = null;
    row.leaseUntil = null;
  }

  async park(work: ClaimedWork, now: number, reason: string): Promise<void> {
    this.assertOpen();
    assertEpochMs('now', now);
    const row = this.claimedRow(work);
    if (row === undefined) return;
    row.parkedAt = now;
    row.parkedReason = reason;
    row.version = this.takeVersion();
    row.leaseOwner = null;
    row.leaseUntil = null;
  }

  async parkedWork(limit: number): Promise<ParkedWork[]> {
    this.assertOpen();
    assertPositiveInteger('limit', limit);
    return this.allRows()
      .filter((row): row is ParkedRow => row.parkedAt !== null)
      .sort(byParkedAt)
      .slice(0, limit)
      .map((row) => ({ ...toWorkItem(row), parkedAt: row.parkedAt, reason: row.parkedReason }));
  }

  async retryParked(transactionId: string, kind: WorkKind, now: number): Promise<boolean> {
    this.assertOpen();
    assertEpochMs('now', now);
    const row = this.storage.rows.get(transactionId)?.get(kind);
    if (row === undefined || row.parkedAt === null) return false;
    row.parkedAt = null;
    row.parkedReason = null;
    row.dueAt = now;
    row.version = this.takeVersion();
    return true;
  }

  /**
   * When claimDue can next return something: an item's dueAt, or for a leased item the end of
   * its lease if later (SqliteWorkStore.nextDueAt says why).
   */
  async nextDueAt(kinds: readonly WorkKind[] = WORK_KINDS): Promise<number | null> {
    this.assertOpen();
    const candidates = this.allRows().flatMap((row) => {
      if (!kinds.includes(row.kind)) return [];
      if (row.leaseUntil !== null) return [Math.max(row.dueAt, row.leaseUntil)];
      return row.parkedAt === null ? [row.dueAt] : [];
    });
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }

  async backlog(now: number): Promise<WorkBacklog> {
    this.assertOpen();
    assertEpochMs('now', now);
    const backlog = emptyBacklog();
    for (const row of this.allRows()) {
      if (row.parkedAt !== null) backlog.parked += 1;
      else if (row.dueAt <= now) backlog[row.kind] += 1;
    }
    return backlog;
  }

  async pending(transactionId: string): Promise<WorkItem[]> {
    this.assertOpen();
    const rows = [...(this.storage.rows.get(transactionId)?.values() ?? [])];
    return rows.sort((a, b) => a.dueAt - b.dueAt || compareText(a.kind, b.kind)).map(toWorkItem);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Closes this instance only: the storage and its work stay for the next one. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryWorkStore is closed');
  }

  private takeVersion(): number {
    this.storage.lastVersion += 1;
    return this.storage.lastVersion;
  }

  private allRows(): WorkRow[] {
    return [...this.storage.rows.values()].flatMap((kinds) => [...kinds.values()]);
  }

  private setRow(row: WorkRow): void {
    const kinds = this.storage.rows.get(row.transactionId) ?? new Map<WorkKind, WorkRow>();
    kinds.set(row.kind, row);
    this.storage.rows.set(row.transactionId, kinds);
  }

  private deleteRow(transactionId: string, kind: WorkKind): void {
    const kinds = this.storage.rows.get(transactionId);
    kinds?.delete(kind);
    if (kinds?.size === 0) this.storage.rows.delete(transactionId);
  }

  /** The row if it is still the claimed version: not replaced, rescheduled, parked or reclaimed. */
  private claimedRow(work: ClaimedWork): WorkRow | undefined {
    const row = this.storage.rows.get(work.transactionId)?.get(work.kind);
    return row?.version === work.version ? row : undefined;
  }
}
