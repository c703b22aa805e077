import type { AnyBulkWriteOperation, Filter, Sort } from 'mongodb';
import { assertEpochMs } from '../../shared/argument-checks';
import type { ScheduleChange } from '../checkpointed-schedule.port';
import type { ParkedWork, WorkItem, WorkKind } from '../work-queue.port';

/**
 * The documents of the MongoDB work store and the filters and writes built from them: pure, so
 * that the shapes the adapter sends are tested without a server.
 */

/**
 * One item per (transactionId, kind), unique by index. The lease and parking fields are absent
 * (never null) while the item is free or in rotation: the partial indexes on them then hold only
 * the few leased or parked items, and `$exists` says exactly which is which.
 */
export interface WorkDocument {
  transactionId: string;
  kind: WorkKind;
  /** Epoch ms; a double holds them exactly. */
  dueAt: number;
  /**
   * The payload as JSON text, as the SQLite store keeps it, so that it comes back as JSON gives
   * it on both: stored as BSON, `undefined` would come back null and a Date as a Date.
   */
  payloadJson: string;
  version: number;
  leaseOwner?: string;
  leaseUntil?: number;
  parkedAt?: number;
  parkedReason?: string;
}

/** The one document of the store-wide version counter (see takeVersions in the adapter). */
export interface VersionCounterDocument {
  _id: string;
  last: number;
}

/** The one checkpoint document, created empty (position null) when the store opens. */
export interface CheckpointDocument {
  _id: string;
  /** toSortableString of the checkpoint: positions may exceed what BSON numbers hold. */
  position: string | null;
}

/** A named singleton lease (e.g. the planner's): valid while now < until. */
export interface LeaseDocument {
  _id: string;
  owner: string;
  until: number;
}

/** The order claimDue hands out work in, as SQLite's `ORDER BY due_at, transaction_id, kind`. */
export const CLAIM_ORDER: Sort = { dueAt: 1, transactionId: 1, kind: 1 };
export const PENDING_ORDER: Sort = { dueAt: 1, kind: 1 };
export const PARKED_ORDER: Sort = { parkedAt: 1, transactionId: 1, kind: 1 };

/** $unset by every write that ends a claim's lease. */
export const NO_LEASE = { leaseOwner: '', leaseUntil: '' } as const;
/** $unset by every write that puts an item back in rotation. */
export const NOT_PARKED = { parkedAt: '', parkedReason: '' } as const;

/**
 * Work claimDue may take at `now`: due, in rotation, and free. A lease is valid while
 * now < leaseUntil, so at leaseUntil the item is free again (a dead instance's work is picked up).
 */
export function claimableFilter(now: number, kinds: readonly WorkKind[]): Filter<WorkDocument> {
  return {
    kind: { $in: [...kinds] },
    dueAt: { $lte: now },
    parkedAt: { $exists: false },
    $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lte: now } }],
  };
}

/** Free, in rotation: nextDueAt counts these from their dueAt. */
export const UNLEASED_IN_ROTATION: Filter<WorkDocument> = {
  leaseUntil: { $exists: false },
  parkedAt: { $exists: false },
};

/** Leased (never parked: parking ends the lease): nextDueAt counts these from the lease's end. */
export const LEASED: Filter<WorkDocument> = { leaseUntil: { $exists: true } };

export const PARKED: Filter<WorkDocument> = { parkedAt: { $exists: true } };

/** The item as one claim saw it: matches nothing once it was claimed again, replanned or parked. */
export function claimedVersionFilter(work: {
  transactionId: string;
  kind: WorkKind;
  version: number;
}): Filter<WorkDocument> {
  return { transactionId: work.transactionId, kind: work.kind, version: work.version };
}

/** A new plan checked and serialized before anything is written: what a commit upserts. */
export interface PlannedWork {
  transactionId: string;
  kind: WorkKind;
  dueAt: number;
  payloadJson: string;
}

/** Rejects a dueAt that is not whole epoch ms (RangeError) and a payload JSON cannot represent. */
export function planWork(item: WorkItem): PlannedWork {
  assertEpochMs('dueAt', item.dueAt);
  return {
    transactionId: item.transactionId,
    kind: item.kind,
    dueAt: item.dueAt,
    payloadJson: JSON.stringify(item.payload),
  };
}

/**
 * The work writes of one commit, for an ordered bulk write: cancels first, so that a batch that
 * cancels a kind and plans it again keeps the new plan; then one upsert per plan. A new plan is a
 * new item: the next version from `firstVersion` on, no lease, not parked. The old claim can no
 * longer renew, complete, reschedule or park it, and the new plan runs at its own dueAt.
 */
export function commitOperations(
  cancel: ScheduleChange['cancel'],
  planned: PlannedWork[],
  firstVersion: number,
): AnyBulkWriteOperation<WorkDocument>[] {
  return [
    ...cancel.map(({ transactionId, kinds }) => ({
      deleteMany: { filter: { transactionId, kind: { $in: kinds } } },
    })),
    ...planned.map(({ transactionId, kind, dueAt, payloadJson }, index) => ({
      updateOne: {
        filter: { transactionId, kind },
        update: {
          $set: { dueAt, payloadJson, version: firstVersion + index },
          $unset: { ...NO_LEASE, ...NOT_PARKED },
        },
        upsert: true,
      },
    })),
  ];
}

/** The named lease is free, expired (until <= now) or already held by `owner` (a renewal). */
export function takeableLeaseFilter(
  name: string,
  owner: string,
  now: number,
): Filter<LeaseDocument> {
  return { _id: name, $or: [{ until: { $lte: now } }, { owner }] };
}

export function toWorkItem(document: WorkDocument): WorkItem {
  return {
    transactionId: document.transactionId,
    kind: document.kind,
    dueAt: document.dueAt,
    payload: JSON.parse(document.payloadJson) as Record<string, unknown>,
  };
}

export function toParkedWork(document: WorkDocument): ParkedWork {
  const { parkedAt, parkedReason } = document;
  if (parkedAt === undefined || parkedReason === undefined) {
    throw new Error(`${document.transactionId}/${document.kind} is not parked`);
  }
  return { ...toWorkItem(document), parkedAt, reason: parkedReason };
}
