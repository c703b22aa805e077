import {
  ClientSession,
  Collection,
  Db,
  IndexDescription,
  Long,
  TransactionOptions,
  WriteConcern,
} from 'mongodb';
import { isDuplicateKeyError } from '../../mongodb/duplicate-key';
import { fromSortableString, toSortableString } from '../../mongodb/sortable-bigint';
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
  claimKeyOf,
  emptyBacklog,
} from '../work-queue.port';
import {
  CheckpointDocument,
  CLAIM_ORDER,
  claimableFilter,
  claimedVersionFilter,
  commitOperations,
  LEASED,
  NO_LEASE,
  NOT_PARKED,
  PARKED,
  PARKED_ORDER,
  PENDING_ORDER,
  planWork,
  toParkedWork,
  toWorkItem,
  UNLEASED_IN_ROTATION,
  VersionCounterDocument,
  WorkDocument,
} from './work-documents';

/**
 * Collection names, prefixed so that they sit beside the read model's in the same database.
 * `work_leases` is the named leases' (mongodb-named-leases.ts); the status-check budget's
 * `work_budget` is beside them, written by its own adapter in provider/status-checks.
 */
export const WORK_STORE_COLLECTIONS = {
  work: 'work_items',
  versions: 'work_versions',
  checkpoint: 'work_checkpoint',
  leases: 'work_leases',
} as const;

const VERSION_COUNTER_ID = 'work';
const CHECKPOINT_ID = 'process-manager';
const MISSING_CHECKPOINT = 'The work store has no checkpoint document (open() creates it)';

const WORK_INDEXES: IndexDescription[] = [
  { name: 'work_by_key', key: { transactionId: 1, kind: 1 }, unique: true },
  { name: 'work_by_due_at', key: { dueAt: 1, transactionId: 1, kind: 1 } },
  // For claims of a set of kinds (status checks apart from the rest) and the backlog by kind.
  { name: 'work_by_kind', key: { kind: 1, dueAt: 1, transactionId: 1 } },
  // Only leased items: few (the work in flight), and nextDueAt looks at all of them.
  {
    name: 'work_leased',
    key: { leaseUntil: 1 },
    partialFilterExpression: { leaseUntil: { $exists: true } },
  },
  {
    name: 'work_parked',
    key: { parkedAt: 1, transactionId: 1, kind: 1 },
    partialFilterExpression: { parkedAt: { $exists: true } },
  },
];

/**
 * Snapshot reads and majority commit: the commit's stale-checkpoint check then reads
 * majority-committed data, and what it writes survives a failover.
 */
const COMMIT_TRANSACTION: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

interface WorkCollections {
  work: Collection<WorkDocument>;
  versions: Collection<VersionCounterDocument>;
  checkpoint: Collection<CheckpointDocument>;
}

/**
 * The scaled-out work store: the work queue and the planner's checkpointed schedule as documents
 * in the MongoDB database the read model uses, shared by every instance. One class for the two
 * ports: the schedule's commit writes the queue's items and versions. A replica set is required
 * (the commit is a transaction).
 *
 * Every read-modify-write holds with instances racing:
 * - claims take one item at a time with findOneAndUpdate, whose filter repeats the claimable
 *   condition, so two instances claiming at once never get the same item;
 * - renew, complete, reschedule and park match the claim's version (and renew the owner too);
 * - a commit's cancels, upserts and checkpoint land in one transaction, which checks the stored
 *   checkpoint by writing the checkpoint document first.
 *
 * The store does not own the MongoClient (MongoConnectionModule does): close() only stops this
 * handle from being used.
 */
export class MongoWorkStore implements WorkQueue, CheckpointedSchedule {
  private readonly mongo: WorkCollections;
  private closed = false;

  private constructor(private readonly db: Db) {
    this.mongo = {
      work: db.collection<WorkDocument>(WORK_STORE_COLLECTIONS.work),
      versions: db.collection<VersionCounterDocument>(WORK_STORE_COLLECTIONS.versions),
      checkpoint: db.collection<CheckpointDocument>(WORK_STORE_COLLECTIONS.checkpoint),
    };
  }

  /**
   * Opens the store on `db`, creating its indexes and its two singleton documents if missing.
   * Safe to run from several instances at once: each step is idempotent.
   */
  static async open(db: Db): Promise<MongoWorkStore> {
    const store = new MongoWorkStore(db);
    await store.ensureSchema();
    return store;
  }

  async checkpoint(): Promise<bigint | null> {
    const stored = await this.collections().checkpoint.findOne({ _id: CHECKPOINT_ID });
    if (stored === null) throw new Error(MISSING_CHECKPOINT);
    return stored.position === null ? null : fromSortableString(stored.position);
  }

  async commit(change: ScheduleChange, batch: PlannedBatch): Promise<void> {
    const { work, checkpoint } = this.collections();
    // Everything that can reject the input does so before the first write.
    const planned = change.schedule.map(planWork);
    const position = toSortableString(batch.checkpoint);
    // Versions are taken outside the transaction: the counter is written by every claim, and in
    // a transaction it would abort the commit with a write conflict whenever one claimed
    // meanwhile. Versions lost to a failed commit are harmless gaps.
    const firstVersion = planned.length > 0 ? await this.takeVersions(planned.length) : 0;
    const operations = commitOperations(change.cancel, planned, firstVersion);

    await this.inTransaction(async (session) => {
      // Written first: a planner committing the same batch at once now conflicts with this
      // transaction and, once withTransaction retried it, finds the checkpoint already moved on.
      const before = await checkpoint.findOneAndUpdate(
        { _id: CHECKPOINT_ID },
        { $set: { position } },
        { session, returnDocument: 'before' },
      );
      if (before === null) throw new Error(MISSING_CHECKPOINT);
      const stored = before.position === null ? null : fromSortableString(before.position);
      // Thrown inside: withTransaction aborts, so nothing of this commit lands.
      if (stored !== null && stored >= batch.firstPosition) {
        throw new StaleCheckpointError(stored, batch.firstPosition);
      }
      if (operations.length > 0) await work.bulkWrite(operations, { session, ordered: true });
    });
  }

  async claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    kinds: readonly WorkKind[] = WORK_KINDS,
  ): Promise<ClaimedWork[]> {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    assertPositiveInteger('limit', limit);
    const { work } = this.collections();
    const claimable = claimableFilter(now, kinds);
    // A read first, so that an idle poll writes nothing, and versions are taken only for items
    // that may be claimed.
    const count = await work.countDocuments(claimable, { limit });
    if (count === 0) return [];
    const firstVersion = await this.takeVersions(count);
    const leaseUntil = now + leaseMs;

    const claimed: ClaimedWork[] = [];
    while (claimed.length < count) {
      const version = firstVersion + claimed.length;
      // One item per call, the earliest still claimable when the server applies it: an item
      // another instance took meanwhile no longer matches, and this call takes the next one.
      const taken = await work.findOneAndUpdate(
        claimable,
        { $set: { version, leaseOwner: owner, leaseUntil } },
        { sort: CLAIM_ORDER, returnDocument: 'after' },
      );
      if (taken === null) break;
      claimed.push({ ...toWorkItem(taken), version, leaseOwner: owner, leaseUntil });
    }
    return claimed;
  }

  /**
   * The version alone proves the claim (it changes on every claim and plan); the owner is checked
   * too, so a forged or mixed-up ClaimedWork cannot extend someone else's lease. A lease that ran
   * out is still renewed if nobody claimed the item since. One updateMany renews them all; only
   * when fewer matched does a read find which were lost (a claim once lost never matches again).
   */
  async renewLeases(
    owner: string,
    works: readonly ClaimedWork[],
    now: number,
    leaseMs: number,
  ): Promise<ClaimedWork[]> {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    if (works.length === 0) return [];
    const { work } = this.collections();
    const held = { leaseOwner: owner, $or: works.map(claimedVersionFilter) };
    const { matchedCount } = await work.updateMany(held, { $set: { leaseUntil: now + leaseMs } });
    if (matchedCount === works.length) return [];
    const kept = await work
      .find(held, { projection: { _id: 0, transactionId: 1, kind: 1, version: 1 } })
      .toArray();
    const renewed = new Set(kept.map(claimKeyOf));
    return works.filter((claim) => !renewed.has(claimKeyOf(claim)));
  }

  async complete(work: ClaimedWork): Promise<void> {
    await this.collections().work.deleteOne(claimedVersionFilter(work));
  }

  async reschedule(
    work: ClaimedWork,
    dueAt: number,
    payload?: Record<string, unknown>,
  ): Promise<void> {
    assertEpochMs('dueAt', dueAt);
    const collections = this.collections();
    const payloadJson = payload === undefined ? undefined : JSON.stringify(payload);
    const version = await this.takeVersions(1);
    await collections.work.updateOne(claimedVersionFilter(work), {
      $set: payloadJson === undefined ? { dueAt, version } : { dueAt, version, payloadJson },
      $unset: NO_LEASE,
    });
  }

  async park(work: ClaimedWork, now: number, reason: string): Promise<void> {
    assertEpochMs('now', now);
    const collections = this.collections();
    const version = await this.takeVersions(1);
    await collections.work.updateOne(claimedVersionFilter(work), {
      $set: { parkedAt: now, parkedReason: reason, version },
      $unset: NO_LEASE,
    });
  }

  async parkedWork(limit: number): Promise<ParkedWork[]> {
    assertPositiveInteger('limit', limit);
    const parked = await this.collections()
      .work.find(PARKED, { sort: PARKED_ORDER, limit })
      .toArray();
    return parked.map(toParkedWork);
  }

  async retryParked(transactionId: string, kind: WorkKind, now: number): Promise<boolean> {
    assertEpochMs('now', now);
    const collections = this.collections();
    const version = await this.takeVersions(1);
    const { matchedCount } = await collections.work.updateOne(
      { transactionId, kind, ...PARKED },
      { $set: { dueAt: now, version }, $unset: NOT_PARKED },
    );
    return matchedCount === 1;
  }

  /**
   * When claimDue can next return something: an item's dueAt, or for a leased item the end of
   * its lease if later. A plain minimum of dueAt would wake the executor in a loop for as long as
   * it works on an item that was already due.
   */
  async nextDueAt(kinds: readonly WorkKind[] = WORK_KINDS): Promise<number | null> {
    const { work } = this.collections();
    const ofKinds = { kind: { $in: [...kinds] } };
    const [unleased, leaseEnd] = await Promise.all([
      work.findOne(
        { ...UNLEASED_IN_ROTATION, ...ofKinds },
        { sort: { dueAt: 1 }, projection: { dueAt: 1 } },
      ),
      work
        .aggregate<{ at: number }>([
          { $match: { ...LEASED, ...ofKinds } },
          { $group: { _id: null, at: { $min: { $max: ['$dueAt', '$leaseUntil'] } } } },
        ])
        .toArray(),
    ]);
    const candidates = [unleased?.dueAt, leaseEnd[0]?.at].filter(
      (time) => typeof time === 'number',
    );
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }

  async backlog(now: number): Promise<WorkBacklog> {
    assertEpochMs('now', now);
    const { work } = this.collections();
    const [due, parked] = await Promise.all([
      work
        .aggregate<{ _id: WorkKind; due: number }>([
          { $match: { dueAt: { $lte: now }, parkedAt: { $exists: false } } },
          { $group: { _id: '$kind', due: { $sum: 1 } } },
        ])
        .toArray(),
      work.countDocuments(PARKED),
    ]);
    const backlog = emptyBacklog();
    for (const { _id: kind, due: count } of due) backlog[kind] = count;
    backlog.parked = parked;
    return backlog;
  }

  async pending(transactionId: string): Promise<WorkItem[]> {
    const items = await this.collections()
      .work.find({ transactionId }, { sort: PENDING_ORDER })
      .toArray();
    return items.map(toWorkItem);
  }

  async ping(): Promise<void> {
    this.collections();
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private collections(): WorkCollections {
    if (this.closed) throw new Error('The MongoDB work store is closed');
    return this.mongo;
  }

  private async ensureSchema(): Promise<void> {
    const { work, versions, checkpoint } = this.mongo;
    // Same names and options every time, so a second instance's call changes nothing.
    await work.createIndexes(WORK_INDEXES);
    // Created outside any transaction; the commit transaction only ever updates it. The counter
    // is a 64-bit integer from the start: $inc keeps it one, so it never overflows 32 bits.
    await ignoringDuplicateKey(
      versions.updateOne(
        { _id: VERSION_COUNTER_ID },
        { $inc: { last: Long.ZERO } },
        { upsert: true },
      ),
    );
    await ignoringDuplicateKey(
      checkpoint.updateOne(
        { _id: CHECKPOINT_ID },
        { $setOnInsert: { position: null } },
        { upsert: true },
      ),
    );
  }

  /**
   * Reserves `count` versions from the store-wide counter; returns the first. Versions come from
   * the counter, never from the item: an item deleted and scheduled again must not get back a
   * version that an old claim still holds.
   */
  private async takeVersions(count: number): Promise<number> {
    const counter = await this.mongo.versions.findOneAndUpdate(
      { _id: VERSION_COUNTER_ID },
      { $inc: { last: Long.fromNumber(count) } },
      // An int64 comes back as a number while it is a safe integer, whatever the client's options.
      { returnDocument: 'after', promoteLongs: true, useBigInt64: false },
    );
    if (counter === null) throw new Error('The work store has no version counter document');
    if (!Number.isSafeInteger(counter.last)) {
      throw new Error(`The work store's version counter is out of range: ${String(counter.last)}`);
    }
    return counter.last - count + 1;
  }

  /**
   * Runs `work` in a transaction that withTransaction retries on transient errors (write
   * conflicts, failovers): `work` must only act through `session`, so that a retry is clean.
   */
  private async inTransaction(work: (session: ClientSession) => Promise<void>): Promise<void> {
    await this.db.client.withSession((session) =>
      session.withTransaction(() => work(session), COMMIT_TRANSACTION),
    );
  }
}

/** For an upsert that only creates a document: a concurrent one that won has created it too. */
async function ignoringDuplicateKey(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}
