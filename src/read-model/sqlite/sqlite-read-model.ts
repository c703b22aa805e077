import Database from 'better-sqlite3';
import type { TransactionState } from '../../transactions/transaction.decider';
import {
  ListSummariesQuery,
  ReadModel,
  ReconciliationQueuePage,
  ReconciliationQueueQuery,
  SearchSummariesQuery,
  SummaryPage,
  SummaryStatistics,
  TIME_TO_FINAL_BUCKET_BOUNDS,
  TransactionSummary,
} from '../read-model.port';
import { openSqliteDatabase } from '../../shared/sqlite';
import { queueReasonOf } from '../reconciliation-queue';

/** How long a write waits for another process holding the file's write lock before failing. */

/**
 * Bumped whenever a table's columns change. A file written under another version is emptied and
 * rebuilt (see openSchema): the read model holds nothing that the event streams do not, so
 * dropping it and resetting the checkpoints makes the projections replay every event into the
 * new shape. Version 2 added the support columns (transaction_id, stage, requested_at,
 * reconciliation).
 */
const SCHEMA_VERSION = 2;

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
    state TEXT NOT NULL,
    -- Copied out of state so that support's searches can use indexes. NULL only for a state
    -- that does not exist yet (which projections never store).
    transaction_id TEXT,
    stage TEXT,
    requested_at TEXT,
    reconciliation TEXT
  ) STRICT;

  CREATE UNIQUE INDEX IF NOT EXISTS transaction_summaries_by_client_id
    ON transaction_summaries (owner, client_id);
  CREATE INDEX IF NOT EXISTS transaction_summaries_newest_first
    ON transaction_summaries (owner, requested_position DESC);
  CREATE INDEX IF NOT EXISTS transaction_summaries_by_status_newest_first
    ON transaction_summaries (owner, status, requested_position DESC);

  -- Support: search across owners, and the reconciliation queue.
  CREATE INDEX IF NOT EXISTS transaction_summaries_all_by_position
    ON transaction_summaries (requested_position);
  CREATE INDEX IF NOT EXISTS transaction_summaries_all_by_status
    ON transaction_summaries (status, requested_position);
  CREATE INDEX IF NOT EXISTS transaction_summaries_all_by_stage
    ON transaction_summaries (stage, requested_position);
  CREATE INDEX IF NOT EXISTS transaction_summaries_by_transaction_id
    ON transaction_summaries (transaction_id);
  CREATE INDEX IF NOT EXISTS transaction_summaries_by_client_id_only
    ON transaction_summaries (client_id);
  CREATE INDEX IF NOT EXISTS transaction_summaries_by_requested_at
    ON transaction_summaries (requested_at);
  CREATE INDEX IF NOT EXISTS transaction_summaries_open_cases
    ON transaction_summaries (requested_position) WHERE reconciliation IS NOT NULL;
`;

const SUMMARY_COLUMNS =
  'stream_name, owner, client_id, status, requested_position, revision, state';

const WRITTEN_COLUMNS = `${SUMMARY_COLUMNS}, transaction_id, stage, requested_at, reconciliation`;

/** Milliseconds from request to final status, rounded so that float error never moves a bucket. */
const TIME_TO_FINAL_MS = `CAST(ROUND(
    (julianday(json_extract(state, '$.finalizedAt')) - julianday(requested_at)) * 86400000
  ) AS INTEGER)`;

/** The histogram bucket index of a row, generated from the shared bounds. */
const TIME_TO_FINAL_BUCKET = `CASE
    ${TIME_TO_FINAL_BUCKET_BOUNDS.map((bound, i) => `WHEN ${TIME_TO_FINAL_MS} < ${bound * 1000} THEN ${i}`).join('\n    ')}
    ELSE ${TIME_TO_FINAL_BUCKET_BOUNDS.length}
  END`;

function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }
}

/** Rows of `SELECT key, COUNT(*) AS count ... GROUP BY key` as a record, NULL keys left out. */
function countsByKey(
  rows: { key: string | bigint | null; count: bigint }[],
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { key, count } of rows) if (key !== null) counts[String(key)] = Number(count);
  return counts;
}

type SearchFilter = Exclude<keyof SearchSummariesQuery, 'limit'>;

/** Each search filter's condition, bound by name to the query field of the same name. */
const SEARCH_CONDITIONS: Record<SearchFilter, string> = {
  status: 'status = :status',
  stage: 'stage = :stage',
  owner: 'owner = :owner',
  clientId: 'client_id = :clientId',
  transactionId: 'transaction_id = :transactionId',
  requestedFrom: 'requested_at >= :requestedFrom',
  requestedTo: 'requested_at < :requestedTo',
  before: 'requested_position < :before',
};

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
    [
      string,
      string,
      string,
      string,
      bigint,
      bigint,
      string,
      string | null,
      string | null,
      string | null,
      string | null,
    ]
  >;
  private readonly selectSummaryByTransactionId: Database.Statement<[string], SummaryRow>;
  private readonly selectQueue: Database.Statement<
    { cutoff: string; after: bigint; limit: number },
    SummaryRow
  >;
  private readonly readStatistics: Database.Transaction<() => SummaryStatistics>;
  private readonly selectSummariesByStreamNames: Database.Statement<[string], SummaryRow>;
  private readonly selectSummaryByClientId: Database.Statement<[string, string], SummaryRow>;
  private readonly selectOne: Database.Statement<[]>;
  private readonly writeCommit: Database.Transaction<
    (projection: string, summaries: TransactionSummary[], checkpoint: bigint) => void
  >;
  /** Keyed by `${hasStatus}/${hasBefore}`: one statement per shape, so each can use its index. */
  private readonly listStatements = new Map<string, Database.Statement<unknown[], SummaryRow>>();
  /** Keyed by the filters present, for the same reason. */
  private readonly searchStatements = new Map<
    string,
    Database.Statement<Record<string, unknown>, SummaryRow>
  >();

  /**
   * `readOnly` is for tools that inspect a live file (the audit verifier): it never creates,
   * migrates or empties anything, and refuses a file of another schema version, where a writable
   * open would drop the tables so the projections rebuild them.
   */
  constructor(options: { path: string; readOnly?: boolean }) {
    super();
    if (options.readOnly) {
      this.db = new Database(options.path, { readonly: true, fileMustExist: true });
      this.db.defaultSafeIntegers(true);
      const version = Number(this.db.pragma('user_version', { simple: true }));
      if (version !== SCHEMA_VERSION) {
        this.db.close();
        throw new Error(
          `${options.path} has read-model schema ${version}; this build reads ${SCHEMA_VERSION}. ` +
            'Run the tool from the same build as the service.',
        );
      }
    } else {
      this.db = openSqliteDatabase(options.path, 'NORMAL');
      // A commit of ~1000 summaries dirties thousands of pages, so the default checkpoint every
      // 1000 pages ran (and synced) after nearly every commit. Checkpoint every ~40 MB instead,
      // and truncate a WAL that a long-running reader let grow past 64 MB once it is reset.
      this.db.pragma('wal_autocheckpoint = 10000');
      this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      // Positions may exceed 2^53: every INTEGER is read as a bigint.
      this.db.defaultSafeIntegers(true);
      this.openSchema();
    }

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
    // transaction_id and requested_at come from TransactionRequested and never change.
    this.upsertSummary = this.db.prepare(
      `INSERT INTO transaction_summaries (${WRITTEN_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream_name) DO UPDATE SET
         status = excluded.status,
         revision = excluded.revision,
         state = excluded.state,
         stage = excluded.stage,
         reconciliation = excluded.reconciliation
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
    this.selectSummaryByTransactionId = this.db.prepare(
      `SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries WHERE transaction_id = ?`,
    );
    // Two index walks, each stopping after limit + 1 rows, merged: an OR over both conditions
    // would make SQLite scan every summary in position order. UNION drops a row both find.
    this.selectQueue = this.db.prepare(
      `SELECT * FROM (
         SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         WHERE reconciliation IS NOT NULL AND requested_position > :after
         ORDER BY requested_position LIMIT :limit
       )
       UNION
       SELECT * FROM (
         SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         WHERE status = 'PENDING' AND requested_position > :after AND requested_at < :cutoff
         ORDER BY requested_position LIMIT :limit
       )
       ORDER BY requested_position LIMIT :limit`,
    );
    this.readStatistics = this.prepareStatistics();
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
            s.state.exists ? s.state.transactionId : null,
            s.state.exists ? s.state.stage : null,
            s.state.exists ? s.state.requestedAt : null,
            s.state.exists ? s.state.reconciliation : null,
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
    assertLimit(limit);
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

  async findSummaryByTransactionId(transactionId: string): Promise<TransactionSummary | null> {
    const row = this.selectSummaryByTransactionId.get(transactionId);
    return row ? toSummary(row) : null;
  }

  async searchSummaries(query: SearchSummariesQuery): Promise<SummaryPage> {
    const { limit, ...filters } = query;
    assertLimit(limit);
    const present = Object.fromEntries(
      Object.entries(filters).filter(([, value]) => value !== undefined),
    );
    const rows = this.searchStatement(Object.keys(present)).all({ ...present, limit: limit + 1 });
    const items = rows.slice(0, limit).map(toSummary);
    const nextBefore = rows.length > limit ? items[items.length - 1].requestedPosition : null;
    return { items, nextBefore };
  }

  async reconciliationQueue(query: ReconciliationQueueQuery): Promise<ReconciliationQueuePage> {
    const { pendingRequestedBefore, after = -1n, limit } = query;
    assertLimit(limit);
    const rows = this.selectQueue.all({ cutoff: pendingRequestedBefore, after, limit: limit + 1 });
    const items = rows.slice(0, limit).flatMap((row) => {
      const summary = toSummary(row);
      const reason = queueReasonOf(summary.state, pendingRequestedBefore);
      return reason ? [{ summary, reason }] : [];
    });
    const nextAfter = rows.length > limit ? rows[limit - 1].requested_position : null;
    return { items, nextAfter };
  }

  async summaryStatistics(): Promise<SummaryStatistics> {
    return this.readStatistics();
  }

  async ping(): Promise<void> {
    this.selectOne.get();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /**
   * Creates the tables, first emptying a file written under another SCHEMA_VERSION. Under the
   * write lock, so that of several processes opening one old file only the first rebuilds it.
   */
  private openSchema(): void {
    this.db
      .transaction(() => {
        const version = Number(this.db.pragma('user_version', { simple: true }));
        if (version !== SCHEMA_VERSION) {
          this.db.exec(
            'DROP TABLE IF EXISTS transaction_summaries; DROP TABLE IF EXISTS checkpoints;',
          );
          this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        }
        this.db.exec(SCHEMA);
      })
      .immediate();
  }

  /** One read transaction, so that every figure describes the same moment. */
  private prepareStatistics(): Database.Transaction<() => SummaryStatistics> {
    type KeyCount = { key: string | bigint | null; count: bigint };
    const byStatus = this.db.prepare<[], KeyCount>(
      'SELECT status AS key, COUNT(*) AS count FROM transaction_summaries GROUP BY status',
    );
    const byStage = this.db.prepare<[], KeyCount>(
      'SELECT stage AS key, COUNT(*) AS count FROM transaction_summaries GROUP BY stage',
    );
    const byBucket = this.db.prepare<[], KeyCount>(
      `SELECT ${TIME_TO_FINAL_BUCKET} AS key, COUNT(*) AS count FROM transaction_summaries
       WHERE json_extract(state, '$.finalizedAt') IS NOT NULL
       GROUP BY key`,
    );
    const byAttempts = this.db.prepare<[], KeyCount>(
      `SELECT json_array_length(state, '$.attempts') AS key, COUNT(*) AS count
       FROM transaction_summaries GROUP BY key`,
    );
    const bySource = this.db.prepare<[], KeyCount>(
      `SELECT json_extract(state, '$.finalSource') AS key, COUNT(*) AS count
       FROM transaction_summaries GROUP BY key`,
    );
    const checks = this.db.prepare<
      [],
      { transactions: bigint; total: bigint | null; max: bigint | null }
    >(
      `SELECT COUNT(*) AS transactions,
              SUM(json_extract(state, '$.statusChecks')) AS total,
              MAX(json_extract(state, '$.statusChecks')) AS max
       FROM transaction_summaries`,
    );
    return this.db.transaction(() => {
      const statusChecks = checks.get()!;
      const transactions = Number(statusChecks.transactions);
      const total = Number(statusChecks.total ?? 0);
      const buckets = countsByKey(byBucket.all());
      return {
        transactions,
        byStatus: countsByKey(byStatus.all()),
        byStage: countsByKey(byStage.all()),
        timeToFinal: [...TIME_TO_FINAL_BUCKET_BOUNDS, null].map((belowSeconds, i) => ({
          belowSeconds,
          count: buckets[String(i)] ?? 0,
        })),
        statusChecks: {
          total,
          mean: transactions === 0 ? 0 : total / transactions,
          max: Number(statusChecks.max ?? 0),
        },
        providerAttempts: countsByKey(byAttempts.all()),
        finalStatusSources: countsByKey(bySource.all()),
      };
    });
  }

  private searchStatement(
    filters: string[],
  ): Database.Statement<Record<string, unknown>, SummaryRow> {
    const key = filters.sort().join('/');
    let statement = this.searchStatements.get(key);
    if (!statement) {
      const conditions = filters.map((filter) => SEARCH_CONDITIONS[filter as SearchFilter]);
      statement = this.db.prepare<Record<string, unknown>, SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
         ORDER BY requested_position DESC
         LIMIT :limit`,
      );
      this.searchStatements.set(key, statement);
    }
    return statement;
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
