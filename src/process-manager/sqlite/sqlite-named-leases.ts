import Database from 'better-sqlite3';
import { assertEpochMs, assertPositiveInteger } from '../../shared/argument-checks';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import { NamedLeases } from '../named-leases.port';

/** The table has been in the work store's file (`work.sqlite`) since its first schema. */
const SCHEMA = `
  -- Singleton jobs (the planner): one holder at a time, until the lease runs out.
  CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL
  ) STRICT;
`;

// Imperative shell.

/**
 * The embedded named leases: a table in the SQLite file the work store uses, on its own
 * connection, shared by every process of one machine. Each call is one statement, atomic on its
 * own; synchronous=FULL, so a lease taken is not forgotten in a power cut.
 */
export class SqliteNamedLeases extends NamedLeases {
  private readonly db: Database.Database;
  private readonly takeLease: Database.Statement<[string, string, number, number, string]>;
  private readonly dropLease: Database.Statement<[string, string]>;
  private readonly selectOne: Database.Statement<[]>;

  constructor(options: { path: string }) {
    super();
    this.db = openSqliteDatabase(options.path, 'FULL');
    this.db.exec(SCHEMA);
    // Free, expired (lease_until <= now) or already ours: take or renew it; otherwise no change.
    this.takeLease = this.db.prepare(
      `INSERT INTO leases (name, owner, lease_until) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE leases.lease_until <= ? OR leases.owner = ?`,
    );
    this.dropLease = this.db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?');
    this.selectOne = this.db.prepare('SELECT 1');
  }

  override async acquire(
    name: string,
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean> {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    return this.takeLease.run(name, owner, now + leaseMs, now, owner).changes === 1;
  }

  override async release(name: string, owner: string): Promise<void> {
    this.dropLease.run(name, owner);
  }

  async ping(): Promise<void> {
    this.selectOne.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
