/**
 * Durable scheduled work for the process manager: what must happen to which transaction and
 * when, who is doing it right now (a lease), the process manager's checkpoint in `$all`, and the
 * provider status-check budget that every instance on the same store shares.
 */

export type WorkKind = 'submit' | 'check' | 'deadline' | 'notify';

export interface WorkItem {
  transactionId: string;
  kind: WorkKind;
  /** Epoch milliseconds from the injected clock. */
  dueAt: number;
  /** Kind-specific details, e.g. the attempt or check number. */
  payload: Record<string, unknown>;
}

export interface ClaimedWork extends WorkItem {
  /** Changes whenever the item is rescheduled or claimed; guards complete/release. */
  version: number;
  leaseOwner: string;
  leaseUntil: number;
}

/** Changes decided for one batch of `$all` events, stored with the checkpoint. */
export interface ScheduleChange {
  /** Upserts by (transactionId, kind): a new plan replaces the old one. */
  schedule: WorkItem[];
  /** Removes all work of these kinds for the transaction. */
  cancel: { transactionId: string; kinds: WorkKind[] }[];
}

/** A step that failed too often, taken out of rotation until support retries it. */
export interface ParkedWork extends WorkItem {
  parkedAt: number;
  reason: string;
}

/** The batch a planner commit covers: it applies the events from firstPosition to checkpoint. */
export interface PlannedBatch {
  firstPosition: bigint;
  checkpoint: bigint;
}

/**
 * A commit for events the store has already applied: another planner got there first (its lease
 * was taken over while this one stalled). Nothing was written; the caller must stand down.
 */
export class StaleCheckpointError extends Error {
  constructor(
    readonly stored: bigint,
    readonly firstPosition: bigint,
  ) {
    super(
      `the work store's checkpoint is at ${stored}, past the batch starting at ${firstPosition}: ` +
        'another planner applied these events',
    );
    this.name = 'StaleCheckpointError';
  }
}

export type BudgetDecision = { granted: true } | { granted: false; retryAt: number };

export interface BudgetSettings {
  /** Checks per second when the provider is happy. */
  ratePerSecond: number;
  /** Lowest rate the budget slows to after repeated 429s. */
  minRatePerSecond: number;
}

export abstract class WorkStore {
  /** Position of the last `$all` event the process manager applied, null if never. */
  abstract checkpoint(): Promise<bigint | null>;

  /**
   * Atomic: the schedule changes and the checkpoint land together. Rejects with
   * StaleCheckpointError, writing nothing, when the stored checkpoint is already at or past
   * `batch.firstPosition`, so that no event is ever applied twice even if two planners overlap.
   */
  abstract commit(change: ScheduleChange, batch: PlannedBatch): Promise<void>;

  /**
   * Takes the named lease (one holder at a time, e.g. the planner) for `owner` until
   * `now + leaseMs` when it is free, expired or already held by `owner` (a renewal); false when
   * another owner holds it.
   */
  abstract acquireLease(
    name: string,
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean>;

  /** Gives the named lease up if `owner` still holds it, so another instance can take it at once. */
  abstract releaseLease(name: string, owner: string): Promise<void>;

  /**
   * Claims up to `limit` items due at `now` whose lease is free or expired, leasing them to
   * `owner` until `now + leaseMs`. An item is held by at most one owner at a time.
   */
  abstract claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedWork[]>;

  /** Extends a lease still held by its owner; false if it was lost (expired and reclaimed). */
  abstract renewLease(work: ClaimedWork, now: number, leaseMs: number): Promise<boolean>;

  /** Deletes the item if it is still the claimed version (not replaced by a newer plan). */
  abstract complete(work: ClaimedWork): Promise<void>;

  /** Releases the lease and moves the item to `dueAt`, unless a newer plan replaced it. */
  abstract reschedule(
    work: ClaimedWork,
    dueAt: number,
    payload?: Record<string, unknown>,
  ): Promise<void>;

  /**
   * Takes a claimed item out of rotation, unless a newer plan replaced it: claimDue and nextDueAt
   * ignore it until retryParked, or until a new plan for the same (transactionId, kind) replaces
   * it. `pending` still lists it.
   */
  abstract park(work: ClaimedWork, now: number, reason: string): Promise<void>;

  /** Parked items, oldest parkedAt first. Rejects a limit that is not a positive integer. */
  abstract parkedWork(limit: number): Promise<ParkedWork[]>;

  /** Puts a parked item back in rotation, due at `now`; false when no such item is parked. */
  abstract retryParked(transactionId: string, kind: WorkKind, now: number): Promise<boolean>;

  /** Earliest dueAt of any item, for the executor to sleep until; null when empty. */
  abstract nextDueAt(): Promise<number | null>;

  abstract pending(transactionId: string): Promise<WorkItem[]>;

  /**
   * Takes one status check from the shared budget (a token bucket holding at most one token,
   * so checks are spaced at least 1/rate apart across every instance), or says when to retry.
   */
  abstract takeStatusCheck(now: number, settings: BudgetSettings): Promise<BudgetDecision>;

  /** The provider said 429: halve the rate (down to the minimum) and pause until `until`. */
  abstract slowDown(now: number, until: number, settings: BudgetSettings): Promise<void>;

  /** A check went through: let the rate recover towards its configured value. */
  abstract recover(now: number, settings: BudgetSettings): Promise<void>;

  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
