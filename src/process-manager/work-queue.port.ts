/**
 * The process manager's durable scheduled work: what must happen to which transaction and when,
 * who is doing it right now (an item lease), and the work parked for support.
 */

export type WorkKind = 'submit' | 'check' | 'deadline' | 'notify' | 'settle';

export const WORK_KINDS: readonly WorkKind[] = ['submit', 'check', 'deadline', 'notify', 'settle'];

/** The backlog: items due and not parked, per kind (leased ones included), and the parked ones. */
export type WorkBacklog = Record<WorkKind | 'parked', number>;

export function emptyBacklog(): WorkBacklog {
  return { submit: 0, check: 0, deadline: 0, notify: 0, settle: 0, parked: 0 };
}

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

type ClaimOrdered = Pick<WorkItem, 'dueAt' | 'transactionId' | 'kind'>;

/** claimDue's order: earliest dueAt, then transaction id, then kind (code unit order). */
export function byClaimOrder(a: ClaimOrdered, b: ClaimOrdered): number {
  const text = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return a.dueAt - b.dueAt || text(a.transactionId, b.transactionId) || text(a.kind, b.kind);
}

/** One claim of one item: its transaction, kind and version. */
export function claimKeyOf(claim: Pick<ClaimedWork, 'transactionId' | 'kind' | 'version'>): string {
  return `${claim.transactionId}/${claim.kind}/${claim.version}`;
}

/** A step that failed too often, taken out of rotation until support retries it. */
export interface ParkedWork extends WorkItem {
  parkedAt: number;
  reason: string;
}

/** Work is put in the queue by the planner's CheckpointedSchedule commits. */
export abstract class WorkQueue {
  /**
   * Claims up to `limit` items due at `now` whose lease is free or expired, earliest dueAt first,
   * leasing them to `owner` until `now + leaseMs`. An item is held by at most one owner at a time.
   * With `kinds`, only items of those kinds.
   */
  abstract claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    kinds?: readonly WorkKind[],
  ): Promise<ClaimedWork[]>;

  /**
   * Extends to `now + leaseMs`, in one write, the leases `owner` still holds on `works` (its
   * claims: the version proves each, the owner is checked too); a lease that ran out is renewed
   * if nobody claimed the item since. Returns those of `works` whose lease was lost (reclaimed by
   * anyone, replaced by a newer plan, completed, rescheduled or parked); compare them by
   * claimKeyOf, as a store on another thread returns copies.
   */
  abstract renewLeases(
    owner: string,
    works: readonly ClaimedWork[],
    now: number,
    leaseMs: number,
  ): Promise<ClaimedWork[]>;

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

  /**
   * When claimDue (with the same `kinds`) can next return something, for the executor to sleep
   * until; null when there is no such item.
   */
  abstract nextDueAt(kinds?: readonly WorkKind[]): Promise<number | null>;

  /** How much work waits at `now`, counted by the store without reading the items. */
  abstract backlog(now: number): Promise<WorkBacklog>;

  abstract pending(transactionId: string): Promise<WorkItem[]>;
}
