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

  /** Atomic: the schedule changes and the checkpoint land together. */
  abstract commit(change: ScheduleChange, checkpoint: bigint): Promise<void>;

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
