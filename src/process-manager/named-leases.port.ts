/** Named leases: one holder at a time for a job that must run on one instance (the planner). */
export abstract class NamedLeases {
  /**
   * Takes the named lease for `owner` until `now + leaseMs` when it is free, expired or already
   * held by `owner` (a renewal); false when another owner holds it.
   */
  abstract acquire(name: string, owner: string, now: number, leaseMs: number): Promise<boolean>;

  /** Gives the named lease up if `owner` still holds it, so another instance can take it at once. */
  abstract release(name: string, owner: string): Promise<void>;
}
