import { assertEpochMs, assertPositiveInteger } from '../../shared/argument-checks';
import { NamedLeases } from '../named-leases.port';

/**
 * The leases themselves, outliving any instance opened on them, as SQLite's `leases` table
 * outlives a process: the simulator drops an instance (a crash) and its lease runs out.
 */
export class MemoryLeaseStorage {
  readonly leases = new Map<string, { owner: string; leaseUntil: number }>();
}

/**
 * Named leases in memory, for the simulator and fast tests (never a product default). Same
 * semantics as SqliteNamedLeases: a lease is held while now < leaseUntil.
 */
export class MemoryNamedLeases extends NamedLeases {
  private closed = false;

  constructor(private readonly storage: MemoryLeaseStorage) {
    super();
  }

  override async acquire(
    name: string,
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean> {
    this.assertOpen();
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    // Free, expired (leaseUntil <= now) or already ours: take or renew it; otherwise no change.
    const held = this.storage.leases.get(name);
    if (held !== undefined && held.leaseUntil > now && held.owner !== owner) return false;
    this.storage.leases.set(name, { owner, leaseUntil: now + leaseMs });
    return true;
  }

  override async release(name: string, owner: string): Promise<void> {
    this.assertOpen();
    if (this.storage.leases.get(name)?.owner === owner) this.storage.leases.delete(name);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Closes this instance only: the leases it took stay until they run out or are released. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryNamedLeases is closed');
  }
}
