import type Database from 'better-sqlite3';

/**
 * Bumped whenever a table's columns change. A file written under another version is emptied and
 * rebuilt (see openSummarySchema): the read model holds nothing that the event streams do not, so
 * dropping it and resetting the checkpoints makes the projections replay every event into the
 * new shape; the same goes for the state JSON column when the decider's state gains a field.
 * Version 2 added the support columns (transaction_id, stage, requested_at, reconciliation);
 * version 3 the state's reportedStatuses.
 */
export const SCHEMA_VERSION = 3;

export const CHECKPOINT_TABLES = `
  CREATE TABLE IF NOT EXISTS checkpoints (
    projection TEXT PRIMARY KEY,
    position INTEGER NOT NULL
  ) STRICT;

  -- The checkpoint of a rebuild in progress, apart from the live one.
  CREATE TABLE IF NOT EXISTS rebuild_checkpoints (
    projection TEXT PRIMARY KEY,
    position INTEGER NOT NULL
  ) STRICT;
`;

/** The projection whose rows live in transaction_summaries; the only one that can be rebuilt. */
export const SUMMARY_PROJECTION = 'transaction-summaries';
export const LIVE_TABLE = 'transaction_summaries';
/** Where a rebuild writes, beside the live table, until finishRebuild renames it over it. */
export const REBUILD_TABLE = 'transaction_summaries_rebuild';
/** The replaced live table between the swap and its drop (a separate, later transaction). */
export const RETIRED_TABLE = 'transaction_summaries_retired';

export function summaryTableSql(table: string): string {
  return `
  CREATE TABLE IF NOT EXISTS ${table} (
    stream_name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_position INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    -- TransactionState as JSON text (STRICT tables have no JSON type).
    state TEXT NOT NULL,
    -- Copied out of state so that support's searches can use indexes. NULL only for a state
    -- that does not exist yet (which projections never store).
    transaction_id TEXT,
    stage TEXT,
    requested_at TEXT,
    reconciliation TEXT
  ) STRICT;`;
}

/**
 * Index names are unique per file and SQLite cannot rename an index, so a rebuilt table keeps
 * the names it was built with: each rebuild picks a fresh prefix, and an existing table's
 * indexes are never created again under the original names (see openSummarySchema).
 */
export function summaryIndexesSql(table: string, prefix: string): string[] {
  return [
    `CREATE UNIQUE INDEX ${prefix}_by_client_id ON ${table} (owner, client_id)`,
    `CREATE INDEX ${prefix}_newest_first ON ${table} (owner, requested_position DESC)`,
    `CREATE INDEX ${prefix}_by_status_newest_first
       ON ${table} (owner, status, requested_position DESC)`,
    // Support: search across owners, and the reconciliation queue.
    `CREATE INDEX ${prefix}_all_by_position ON ${table} (requested_position)`,
    `CREATE INDEX ${prefix}_all_by_status ON ${table} (status, requested_position)`,
    `CREATE INDEX ${prefix}_all_by_stage ON ${table} (stage, requested_position)`,
    `CREATE INDEX ${prefix}_by_transaction_id ON ${table} (transaction_id)`,
    `CREATE INDEX ${prefix}_by_client_id_only ON ${table} (client_id)`,
    `CREATE INDEX ${prefix}_by_requested_at ON ${table} (requested_at)`,
    `CREATE INDEX ${prefix}_open_cases
       ON ${table} (requested_position) WHERE reconciliation IS NOT NULL`,
  ];
}

/**
 * Creates the tables, first emptying a file written under another SCHEMA_VERSION. Under the
 * write lock, so that of several processes opening one old file only the first rebuilds it.
 */
export function openSummarySchema(db: Database.Database): void {
  db.transaction(() => {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version !== SCHEMA_VERSION) {
      db.exec(
        [LIVE_TABLE, REBUILD_TABLE, RETIRED_TABLE, 'checkpoints', 'rebuild_checkpoints']
          .map((table) => `DROP TABLE IF EXISTS ${table};`)
          .join(' '),
      );
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    db.exec(CHECKPOINT_TABLES);
    const exists = db
      .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?")
      .get(LIVE_TABLE);
    // A rebuilt table carries indexes under its rebuild's names: never add a second set.
    if (!exists) {
      db.exec(summaryTableSql(LIVE_TABLE));
      for (const statement of summaryIndexesSql(LIVE_TABLE, LIVE_TABLE)) db.exec(statement);
    }
  }).immediate();
}

/** Helper threads SQLite may use to sort while building indexes (these machines have 2 cores). */
const INDEX_SORT_THREADS = 2;
/** Negative: KiB. 256 MB while the rebuilt copy's indexes are built, then back to the default. */
const INDEX_BUILD_CACHE_KIB = -262_144;

/**
 * The copy is filled without secondary indexes (bulk inserts into a bare table are about twice
 * as fast) and indexed here, once, before the first swap attempt. One transaction per index:
 * each holds the file's write lock for well under a second on a million events
 * (bench:rebuild), so a live projection waiting on it stays far inside busy_timeout.
 *
 * Indexes are built once the copy is full (sorting the rows once beats updating ten indexes per
 * insert). The sorts may use the second core and a larger page cache: on the 275,000 summaries
 * of bench:rebuild that takes building the ten indexes from about 1.3 s to 1.0-1.2 s.
 */
export function indexSummaryTable(db: Database.Database, table: string): void {
  const prefix = `summaries_${Date.now().toString(36)}`;
  const cacheSize: unknown = db.pragma('cache_size', { simple: true });
  db.pragma(`threads = ${INDEX_SORT_THREADS}`);
  db.pragma(`cache_size = ${INDEX_BUILD_CACHE_KIB}`);
  try {
    for (const statement of summaryIndexesSql(table, prefix)) db.exec(statement);
  } finally {
    db.pragma('threads = 0');
    db.pragma(`cache_size = ${String(cacheSize)}`);
  }
}
