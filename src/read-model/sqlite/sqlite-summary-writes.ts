import Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import type { TransactionSummary } from '../../transactions/read-model.port';

export const SUMMARY_COLUMNS =
  'stream_name, owner, client_id, status, requested_position, revision, state';

const WRITTEN_COLUMNS = `${SUMMARY_COLUMNS}, transaction_id, stage, requested_at, reconciliation`;

/** One summary as written: the columns of WRITTEN_COLUMNS in order. */
export type SummaryParams = [
  streamName: string,
  owner: string,
  clientId: string,
  status: string,
  requestedPosition: bigint,
  revision: bigint,
  state: string,
  transactionId: string | null,
  stage: string | null,
  requestedAt: string | null,
  reconciliation: string | null,
];

/** What the writer thread is started with (workerData). */
export interface SummaryWriterData {
  path: string;
  table: string;
  checkpointTable: string;
}

/** One projection commit: the summaries it changed and the checkpoint stored with them. */
export interface SummaryCommit {
  projection: string;
  summaries: SummaryParams[];
  checkpoint: bigint;
}

export function summaryParams(s: TransactionSummary): SummaryParams {
  return [
    s.streamName,
    s.owner,
    s.clientId,
    s.status,
    s.requestedPosition,
    s.revision,
    JSON.stringify(s.state),
    s.state.exists ? s.state.transactionId : null,
    s.state.exists ? s.state.stage : null,
    s.state.exists ? s.state.requestedAt : null,
    s.state.exists ? s.state.reconciliation : null,
  ];
}

interface FixedColumns {
  owner: string;
  client_id: string;
  requested_position: bigint;
  revision: bigint;
}

/** A zero-change upsert is harmless only when it was stale: same fixed fields, older revision. */
function isStaleWrite(stored: FixedColumns, summary: SummaryParams): boolean {
  const [, owner, clientId, , requestedPosition, revision] = summary;
  return (
    stored.owner === owner &&
    stored.client_id === clientId &&
    stored.requested_position === requestedPosition &&
    stored.revision > revision
  );
}

/**
 * Not INSERT OR REPLACE: that would silently delete another stream's row holding the same
 * (owner, client_id); a conflict there must fail the commit instead. An update sets only the
 * columns that change over a stream's life: SQLite rewrites the entries of every index whose
 * columns are SET, which made commits twice as slow. The WHERE turns an attempt to change the
 * fixed ones, or to go back to an older revision, into zero changes, which the commit then tells
 * apart. transaction_id and requested_at come from TransactionRequested and never change.
 */
function upsertSummarySql(table: string): string {
  return `INSERT INTO ${table} (${WRITTEN_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream_name) DO UPDATE SET
         status = excluded.status,
         revision = excluded.revision,
         state = excluded.state,
         stage = excluded.stage,
         reconciliation = excluded.reconciliation
       WHERE owner = excluded.owner
         AND client_id = excluded.client_id
         AND requested_position = excluded.requested_position
         AND revision <= excluded.revision`;
}

/** The statement that stores a checkpoint; MAX, so that it never moves backwards. */
export function checkpointWriteSql(checkpointTable: string): string {
  // E.g. when a live runner that was behind a swapped-in rebuild commits its next batch.
  return `INSERT INTO ${checkpointTable} (projection, position) VALUES (?, ?)
       ON CONFLICT (projection) DO UPDATE SET position = MAX(position, excluded.position)`;
}

/**
 * A commit of summaries and their checkpoint into `table` as one transaction (to be run with
 * `.immediate`: the write lock is taken up front, so waiting for another process happens under
 * busy_timeout instead of failing on a lock upgrade halfway through).
 */
export function prepareSummaryCommit(
  db: Database.Database,
  table: string,
  checkpointTable: string,
): Database.Transaction<(commit: SummaryCommit) => void> {
  const upsert = db.prepare<SummaryParams>(upsertSummarySql(table));
  const selectFixed = db.prepare<[string], FixedColumns>(
    `SELECT owner, client_id, requested_position, revision FROM ${table} WHERE stream_name = ?`,
  );
  const writeCheckpoint = db.prepare<[string, bigint]>(checkpointWriteSql(checkpointTable));
  return db.transaction(({ projection, summaries, checkpoint }: SummaryCommit) => {
    for (const summary of summaries) {
      if (upsert.run(...summary).changes > 0) continue;
      const stored = selectFixed.get(summary[0]);
      if (stored && isStaleWrite(stored, summary)) continue;
      throw new Error(`${summary[0]} already has another owner, client id or requested position`);
    }
    writeCheckpoint.run(projection, checkpoint);
  });
}

/** WAL settings for a connection that commits summaries (the writer thread; a rebuild). */
export function configureSummaryCommits(db: Database.Database): void {
  // A commit of ~1000 summaries dirties thousands of pages, so the default checkpoint every 1000
  // pages ran (and synced) after nearly every commit. Checkpoint every ~40 MB instead, and
  // truncate a WAL that a long-running reader let grow past 64 MB once it is reset.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
}

/**
 * The live projection's commits into the read-model file, on the writer thread
 * (sqlite-summary-writer.thread.ts). The file's schema exists already: SqliteReadModel created
 * or migrated it before the first commit was sent.
 */
export class SqliteSummaryWriter {
  private readonly db: Database.Database;
  private readonly commitLive: Database.Transaction<(commit: SummaryCommit) => void>;

  constructor(path: string, table: string, checkpointTable: string) {
    this.db = openSqliteDatabase(path, 'NORMAL');
    configureSummaryCommits(this.db);
    this.db.defaultSafeIntegers(true);
    this.commitLive = prepareSummaryCommit(this.db, table, checkpointTable);
  }

  write(commit: SummaryCommit): void {
    this.commitLive.immediate(commit);
  }

  close(): void {
    this.db.close();
  }
}
