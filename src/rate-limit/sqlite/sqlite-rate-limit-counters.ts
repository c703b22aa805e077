import Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import { CallerDelta, RateLimitCounters } from '../rate-limit-counters.port';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS rate_limit_counts (
    window_start INTEGER NOT NULL,
    caller TEXT NOT NULL,
    window_end INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (window_start, caller)
  ) STRICT, WITHOUT ROWID;

  CREATE INDEX IF NOT EXISTS rate_limit_counts_by_count ON rate_limit_counts (window_start, count);
  CREATE INDEX IF NOT EXISTS rate_limit_counts_by_end ON rate_limit_counts (window_end);
`;

/**
 * A sync runs on the event loop: waiting long for another process's lock would hold up requests.
 * The lock is only ever held for another sync, so a short wait is enough; a sync that still
 * cannot get it fails and its deltas go with the next one.
 */
const BUSY_TIMEOUT_MS = 250;

// Imperative shell.

/**
 * The embedded counters: a table in their own SQLite file, so that every process sharing the data
 * folder shares them without waiting on the event store's or the work store's writer.
 * synchronous=NORMAL: a power cut may forget the last syncs, which only lets callers through
 * sooner. Each sync forgets the windows that have ended, so the table holds about one window.
 */
export class SqliteRateLimitCounters extends RateLimitCounters {
  private readonly db: Database.Database;
  private readonly addToCount: Database.Statement<[number, string, number, number], number>;
  private readonly selectAtLeast: Database.Statement<
    [number, number],
    { caller: string; count: number }
  >;
  private readonly deleteEnded: Database.Statement<[number]>;
  private readonly addAll: Database.Transaction<
    (
      windowStart: number,
      windowMs: number,
      deltas: CallerDelta[],
      atLeast: number,
    ) => Map<string, number>
  >;

  constructor(path: string) {
    super();
    this.db = openSqliteDatabase(path, 'NORMAL');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.exec(SCHEMA);
    this.addToCount = this.db
      .prepare<[number, string, number, number], number>(
        `INSERT INTO rate_limit_counts (window_start, caller, window_end, count) VALUES (?, ?, ?, ?)
         ON CONFLICT (window_start, caller) DO UPDATE SET count = count + excluded.count
         RETURNING count`,
      )
      .pluck();
    this.selectAtLeast = this.db.prepare(
      'SELECT caller, count FROM rate_limit_counts WHERE window_start = ? AND count >= ?',
    );
    this.deleteEnded = this.db.prepare('DELETE FROM rate_limit_counts WHERE window_end <= ?');
    this.addAll = this.db.transaction(
      (windowStart: number, windowMs: number, deltas: CallerDelta[], atLeast: number) => {
        this.deleteEnded.run(windowStart);
        const totals = new Map<string, number>();
        for (const { caller, count } of deltas) {
          totals.set(
            caller,
            this.addToCount.get(windowStart, caller, windowStart + windowMs, count)!,
          );
        }
        for (const { caller, count } of this.selectAtLeast.iterate(windowStart, atLeast)) {
          totals.set(caller, count);
        }
        return totals;
      },
    );
  }

  override async add(
    windowStart: number,
    windowMs: number,
    deltas: CallerDelta[],
    atLeast: number,
  ): Promise<Map<string, number>> {
    // IMMEDIATE: the write lock is taken before reading, so a busy file fails fast, not midway.
    return this.addAll.immediate(windowStart, windowMs, deltas, atLeast);
  }

  close(): void {
    this.db.close();
  }
}
