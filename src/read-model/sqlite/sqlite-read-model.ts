import Database from 'better-sqlite3';
import type { TransactionState } from '../../transactions/transaction.decider';
import { ListSummariesQuery, ReadModel, SummaryPage, TransactionSummary } from '../read-model.port';

/** How long a write waits for another process holding the file's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS checkpoints (
    projection TEXT PRIMARY KEY,
    position INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS transaction_summaries (
    stream_name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_position INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    -- TransactionState as JSON text (STRICT tables have no JSON type).
    state TEXT NOT NULL
  ) STRICT;

  CREATE UNIQUE INDEX IF NOT EXISTS transaction_summaries_by_client_id
    ON transaction_summaries (owner, client_id);
  CREATE INDEX IF NOT EXISTS transaction_summaries_newest_first
    ON transaction_summaries (owner, requested_position DESC);
  CREATE INDEX IF NOT EXISTS transaction_summaries_by_status_newest_first
    ON transaction_summaries (owner, status, requested_position DESC);
`;

const SUMMARY_COLUMNS =
  'stream_name, owner, client_id, status, requested_position, revision, state';

/** A transaction_summaries row as read with safe integers on. */
interface SummaryRow {
  stream_name: string;
  owner: string;
  client_id: string;
  status: string;
  requested_position: bigint;
  revision: bigint;
  state: string;
}

function toSummary(row: SummaryRow): TransactionSummary {
  return {
    streamName: row.stream_name,
    owner: row.owner,
    clientId: row.client_id,
    status: row.status,
    requestedPosition: row.requested_position,
    revision: row.revision,
    state: JSON.parse(row.state) as TransactionState,
  };
}

/**
 * The embedded read model: one SQLite file, shared by every process of one machine.
 *
 * synchronous=NORMAL in WAL mode may lose the last commits on a power cut (never corrupts the
 * file). That is acceptable here and not in the event store: the read model can be dropped and
 * rebuilt from the streams, and a lost commit also loses its checkpoint, so the projection simply
 * re-applies those events.
 */
export class SqliteReadModel extends ReadModel {
  private readonly db: Database.Database;
  private readonly selectCheckpoint: Database.Statement<[string], { position: bigint }>;
  private readonly upsertCheckpoint: Database.Statement<[string, bigint]>;
  private readonly upsertSummary: Database.Statement<
    [string, string, string, string, bigint, bigint, string]
  >;
  private readonly selectSummariesByStreamNames: Database.Statement<[string], SummaryRow>;
  private readonly selectSummaryByClientId: Database.Statement<[string, string], SummaryRow>;
  private readonly selectOne: Database.Statement<[]>;
  private readonly writeCommit: Database.Transaction<
    (projection: string, summaries: TransactionSummary[], checkpoint: bigint) => void
  >;
  /** Keyed by `${hasStatus}/${hasBefore}`: one statement per shape, so each can use its index. */
  private readonly listStatements = new Map<string, Database.Statement<unknown[], SummaryRow>>();

  constructor(options: { path: string }) {
    super();
    this.db = new Database(options.path);
    // First, so that the schema set-up below also waits for other processes.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // A commit of ~1000 summaries dirties thousands of pages, so the default checkpoint every
    // 1000 pages ran (and synced) after nearly every commit. Checkpoint every ~40 MB instead, and
    // truncate a WAL that a long-running reader let grow past 64 MB once it is reset.
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    // Positions may exceed 2^53: every INTEGER is read as a bigint.
    this.db.defaultSafeIntegers(true);
    this.db.exec(SCHEMA);

    this.selectCheckpoint = this.db.prepare(
      'SELECT position FROM checkpoints WHERE projection = ?',
    );
    this.upsertCheckpoint = this.db.prepare(
      `INSERT INTO checkpoints (projection, position) VALUES (?, ?)
       ON CONFLICT (projection) DO UPDATE SET position = excluded.position`,
    );
    // Not INSERT OR REPLACE: that would silently delete another stream's row holding the same
    // (owner, client_id); a conflict there must fail the commit instead.
    // An update sets only the columns that change over a stream's life: SQLite rewrites the
    // entries of every index whose columns are SET, which made commits twice as slow. The WHERE
    // turns an attempt to change the fixed ones into zero changes, which commit rejects.
    this.upsertSummary = this.db.prepare(
      `INSERT INTO transaction_summaries (${SUMMARY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream_name) DO UPDATE SET
         status = excluded.status,
         revision = excluded.revision,
         state = excluded.state
       WHERE owner = excluded.owner
         AND client_id = excluded.client_id
         AND requested_position = excluded.requested_position`,
    );
    // One query for a whole batch of names, passed as a JSON array.
    this.selectSummariesByStreamNames = this.db.prepare(
      `SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
       WHERE stream_name IN (SELECT value FROM json_each(?))`,
    );
    this.selectSummaryByClientId = this.db.prepare(
      `SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries WHERE owner = ? AND client_id = ?`,
    );
    this.selectOne = this.db.prepare('SELECT 1');
    this.writeCommit = this.db.transaction(
      (projection: string, summaries: TransactionSummary[], checkpoint: bigint) => {
        for (const s of summaries) {
          const { changes } = this.upsertSummary.run(
            s.streamName,
            s.owner,
            s.clientId,
            s.status,
            s.requestedPosition,
            s.revision,
            JSON.stringify(s.state),
          );
          if (changes === 0) {
            throw new Error(
              `${s.streamName} already has another owner, client id or requested position`,
            );
          }
        }
        this.upsertCheckpoint.run(projection, checkpoint);
      },
    );
  }

  async checkpoint(projection: string): Promise<bigint | null> {
    return this.selectCheckpoint.get(projection)?.position ?? null;
  }

  async loadSummaries(streamNames: string[]): Promise<Map<string, TransactionSummary>> {
    const summaries = new Map<string, TransactionSummary>();
    if (streamNames.length === 0) return summaries;
    for (const row of this.selectSummariesByStreamNames.all(JSON.stringify(streamNames))) {
      summaries.set(row.stream_name, toSummary(row));
    }
    return summaries;
  }

  async commit(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void> {
    // BEGIN IMMEDIATE: take the write lock up front, so that waiting for another process happens
    // under busy_timeout instead of failing on a lock upgrade halfway through.
    try {
      this.writeCommit.immediate(projection, change.summaries, change.checkpoint);
    } catch (error) {
      // SQLite's error class comes from the native module; a plain Error with the cause is
      // recognisable to every caller (and every Jest module registry).
      const message = (error as { message?: unknown }).message;
      throw new Error(`read model commit rejected: ${String(message)}`, { cause: error });
    }
  }

  async findSummary(owner: string, clientId: string): Promise<TransactionSummary | null> {
    const row = this.selectSummaryByClientId.get(owner, clientId);
    return row ? toSummary(row) : null;
  }

  async listSummaries(query: ListSummariesQuery): Promise<SummaryPage> {
    const { owner, status, before, limit } = query;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    }
    const params: unknown[] = [owner];
    if (status !== undefined) params.push(status);
    if (before !== undefined) params.push(before);
    // One row more than asked tells whether another page follows.
    params.push(limit + 1);
    const rows = this.listStatement(status !== undefined, before !== undefined).all(...params);
    const items = rows.slice(0, limit).map(toSummary);
    const nextBefore = rows.length > limit ? items[items.length - 1].requestedPosition : null;
    return { items, nextBefore };
  }

  async ping(): Promise<void> {
    this.selectOne.get();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private listStatement(
    hasStatus: boolean,
    hasBefore: boolean,
  ): Database.Statement<unknown[], SummaryRow> {
    const key = `${hasStatus}/${hasBefore}`;
    let statement = this.listStatements.get(key);
    if (!statement) {
      const conditions = ['owner = ?'];
      if (hasStatus) conditions.push('status = ?');
      if (hasBefore) conditions.push('requested_position < ?');
      statement = this.db.prepare<unknown[], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         WHERE ${conditions.join(' AND ')}
         ORDER BY requested_position DESC
         LIMIT ?`,
      );
      this.listStatements.set(key, statement);
    }
    return statement;
  }
}
