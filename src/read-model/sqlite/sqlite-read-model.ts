import Database from 'better-sqlite3';
import type { TransactionState } from '../../transactions/transaction.decider';
import {
  assertLimit,
  ListSummariesQuery,
  ReadModel,
  ReconciliationQueuePage,
  ReconciliationQueueQuery,
  RebuildSwap,
  SearchSummariesQuery,
  SummaryPage,
  SummaryStatistics,
  TIME_TO_FINAL_BUCKET_BOUNDS,
  TransactionSummary,
} from '../read-model.port';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import { WriterThread, threadScript } from '../../sqlite/sqlite-writer-thread';
import { queueReasonOf } from '../reconciliation-queue';
import {
  SUMMARY_COLUMNS,
  SummaryCommit,
  SummaryWriterData,
  checkpointWriteSql,
  configureSummaryCommits,
  prepareSummaryCommit,
  summaryParams,
} from './sqlite-summary-writes';

/**
 * Bumped whenever a table's columns change. A file written under another version is emptied and
 * rebuilt (see openSchema): the read model holds nothing that the event streams do not, so
 * dropping it and resetting the checkpoints makes the projections replay every event into the
 * new shape; the same goes for the state JSON column when the decider's state gains a field.
 * Version 2 added the support columns (transaction_id, stage, requested_at, reconciliation);
 * version 3 the state's reportedStatuses.
 */
const SCHEMA_VERSION = 3;

const CHECKPOINT_TABLES = `
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
const SUMMARY_PROJECTION = 'transaction-summaries';
const LIVE_TABLE = 'transaction_summaries';
/** Where a rebuild writes, beside the live table, until finishRebuild renames it over it. */
const REBUILD_TABLE = 'transaction_summaries_rebuild';
/** The replaced live table between the swap and its drop (a separate, later transaction). */
const RETIRED_TABLE = 'transaction_summaries_retired';

function summaryTableSql(table: string): string {
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
 * indexes are never created again under the original names (see openSchema).
 */
/** Helper threads SQLite may use to sort while building indexes (these machines have 2 cores). */
const INDEX_SORT_THREADS = 2;
/** Negative: KiB. 256 MB while the rebuilt copy's indexes are built, then back to the default. */
const INDEX_BUILD_CACHE_KIB = -262_144;

function summaryIndexesSql(table: string, prefix: string): string[] {
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

/** Milliseconds from request to final status, rounded so that float error never moves a bucket. */
const TIME_TO_FINAL_MS = `CAST(ROUND(
    (julianday(json_extract(state, '$.finalizedAt')) - julianday(requested_at)) * 86400000
  ) AS INTEGER)`;

/** The histogram bucket index of a row, generated from the shared bounds. */
const TIME_TO_FINAL_BUCKET = `CASE
    ${TIME_TO_FINAL_BUCKET_BOUNDS.map((bound, i) => `WHEN ${TIME_TO_FINAL_MS} < ${bound * 1000} THEN ${i}`).join('\n    ')}
    ELSE ${TIME_TO_FINAL_BUCKET_BOUNDS.length}
  END`;

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * A cursor from a client may name any position; SQLite integers stop at 64 bits, and every
 * stored position is inside them, so a bound beyond them means the same as the nearest end.
 */
function int64Bound(position: bigint): bigint {
  if (position > INT64_MAX) return INT64_MAX;
  return position < INT64_MIN ? INT64_MIN : position;
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

type CommitChange = { summaries: TransactionSummary[]; checkpoint: bigint };

/** The statements of one summary table (live or being rebuilt) and its checkpoint table. */
interface SummaryTable {
  selectByStreamNames: Database.Statement<[string], SummaryRow>;
  writeCheckpoint: Database.Statement<[string, bigint]>;
  readCheckpoint(projection: string): bigint | null;
}

/** The copy being rebuilt commits from this connection; the live table from the writer thread. */
interface RebuildTable extends SummaryTable {
  commit: Database.Transaction<(commit: SummaryCommit) => void>;
}

function assertRebuildable(projection: string): void {
  if (projection !== SUMMARY_PROJECTION) {
    throw new Error(`the read model has no rebuildable table for projection "${projection}"`);
  }
}

function loadFrom(table: SummaryTable, streamNames: string[]): Map<string, TransactionSummary> {
  const summaries = new Map<string, TransactionSummary>();
  if (streamNames.length === 0) return summaries;
  for (const row of table.selectByStreamNames.all(JSON.stringify(streamNames))) {
    summaries.set(row.stream_name, toSummary(row));
  }
  return summaries;
}

function summaryCommit(projection: string, change: CommitChange): SummaryCommit {
  return {
    projection,
    summaries: change.summaries.map(summaryParams),
    checkpoint: change.checkpoint,
  };
}

/**
 * SQLite's error class comes from the native module (or the writer thread); a plain Error with
 * the cause is recognisable to every caller (and every Jest module registry).
 */
function commitRejected(error: unknown): Error {
  const message = (error as { message?: unknown }).message;
  return new Error(`read model commit rejected: ${String(message)}`, { cause: error });
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
  private readonly live: SummaryTable;
  /** Commits the live projection off the event loop; null for a read-only open. */
  private readonly liveWriter: WriterThread<SummaryCommit, void> | null = null;
  /** The copy being rebuilt, once beginRebuild has created it in this connection. */
  private rebuild: RebuildTable | null = null;
  private rebuildIndexed = false;
  private readonly selectSummaryByTransactionId: Database.Statement<[string], SummaryRow>;
  private readonly selectQueue: Database.Statement<
    { cutoff: string; after: bigint; limit: number },
    SummaryRow
  >;
  private readonly readStatistics: Database.Transaction<() => SummaryStatistics>;
  private readonly selectSummaryByClientId: Database.Statement<[string, string], SummaryRow>;
  private readonly selectOne: Database.Statement<[]>;
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
      // A rebuild commits from this connection.
      configureSummaryCommits(this.db);
      // Positions may exceed 2^53: every INTEGER is read as a bigint.
      this.db.defaultSafeIntegers(true);
      this.openSchema();
      this.liveWriter = new WriterThread<SummaryCommit, void>(
        'sqlite-summary-writer',
        threadScript(__dirname, 'sqlite-summary-writer.thread'),
        {
          path: options.path,
          table: LIVE_TABLE,
          checkpointTable: 'checkpoints',
        } satisfies SummaryWriterData,
      );
    }

    this.selectCheckpoint = this.db.prepare(
      'SELECT position FROM checkpoints WHERE projection = ?',
    );
    this.live = this.prepareSummaryTable(LIVE_TABLE, 'checkpoints');
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
  }

  async checkpoint(projection: string): Promise<bigint | null> {
    return this.selectCheckpoint.get(projection)?.position ?? null;
  }

  async loadSummaries(streamNames: string[]): Promise<Map<string, TransactionSummary>> {
    return loadFrom(this.live, streamNames);
  }

  async commit(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void> {
    if (!this.liveWriter) throw new Error('the read model was opened read-only');
    try {
      await this.liveWriter.request(summaryCommit(projection, change));
    } catch (error) {
      throw commitRejected(error);
    }
  }

  async beginRebuild(projection: string): Promise<void> {
    assertRebuildable(projection);
    this.db
      .transaction(() => {
        this.db.exec(
          `DROP TABLE IF EXISTS ${REBUILD_TABLE}; DROP TABLE IF EXISTS ${RETIRED_TABLE};`,
        );
        this.db.prepare('DELETE FROM rebuild_checkpoints WHERE projection = ?').run(projection);
        this.db.exec(summaryTableSql(REBUILD_TABLE));
      })
      .immediate();
    this.rebuild = {
      ...this.prepareSummaryTable(REBUILD_TABLE, 'rebuild_checkpoints'),
      commit: prepareSummaryCommit(this.db, REBUILD_TABLE, 'rebuild_checkpoints'),
    };
    this.rebuildIndexed = false;
  }

  async loadRebuildSummaries(
    projection: string,
    streamNames: string[],
  ): Promise<Map<string, TransactionSummary>> {
    return loadFrom(this.rebuildTable(projection), streamNames);
  }

  async commitRebuild(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void> {
    const table = this.rebuildTable(projection);
    try {
      table.commit.immediate(summaryCommit(projection, change));
    } catch (error) {
      throw commitRejected(error);
    }
  }

  async finishRebuild(projection: string): Promise<RebuildSwap> {
    this.rebuildTable(projection);
    if (!this.rebuildIndexed) this.indexRebuildTable();
    // Under the write lock: the live projection (in this or another process) cannot commit
    // between reading its checkpoint and the rename, so it resumes from a copy at or past it.
    const swap = this.db
      .transaction((): RebuildSwap => {
        const liveCheckpoint = this.selectCheckpoint.get(projection)?.position ?? null;
        const rebuildCheckpoint = this.rebuildTable(projection).readCheckpoint(projection);
        if (rebuildCheckpoint === null || (liveCheckpoint ?? 0n) > rebuildCheckpoint) {
          return { swapped: false, rebuildCheckpoint, liveCheckpoint };
        }
        // Other connections' prepared statements name the live table: SQLite sees the schema
        // change and re-prepares them against the renamed one at their next step.
        this.db.exec(
          `ALTER TABLE ${LIVE_TABLE} RENAME TO ${RETIRED_TABLE};
           ALTER TABLE ${REBUILD_TABLE} RENAME TO ${LIVE_TABLE};`,
        );
        this.live.writeCheckpoint.run(projection, rebuildCheckpoint);
        this.db.prepare('DELETE FROM rebuild_checkpoints WHERE projection = ?').run(projection);
        return { swapped: true, checkpoint: rebuildCheckpoint };
      })
      .immediate();
    if (swap.swapped) {
      this.rebuild = null;
      // Its own transaction: freeing the old table's pages need not lengthen the swap.
      this.db.exec(`DROP TABLE IF EXISTS ${RETIRED_TABLE}`);
    }
    return swap;
  }

  async abandonRebuild(projection: string): Promise<void> {
    assertRebuildable(projection);
    this.rebuild = null;
    this.db
      .transaction(() => {
        this.db.exec(`DROP TABLE IF EXISTS ${REBUILD_TABLE}`);
        this.db.prepare('DELETE FROM rebuild_checkpoints WHERE projection = ?').run(projection);
      })
      .immediate();
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
    if (before !== undefined) params.push(int64Bound(before));
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
      Object.entries({
        ...filters,
        before: filters.before === undefined ? undefined : int64Bound(filters.before),
      }).filter(([, value]) => value !== undefined),
    );
    const rows = this.searchStatement(Object.keys(present)).all({ ...present, limit: limit + 1 });
    const items = rows.slice(0, limit).map(toSummary);
    const nextBefore = rows.length > limit ? items[items.length - 1].requestedPosition : null;
    return { items, nextBefore };
  }

  async reconciliationQueue(query: ReconciliationQueueQuery): Promise<ReconciliationQueuePage> {
    const { pendingRequestedBefore, after = -1n, limit } = query;
    assertLimit(limit);
    const rows = this.selectQueue.all({
      cutoff: pendingRequestedBefore,
      after: int64Bound(after),
      limit: limit + 1,
    });
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
    await this.liveWriter?.close();
    this.db.close();
  }

  private prepareSummaryTable(table: string, checkpointTable: string): SummaryTable {
    const selectCheckpoint = this.db.prepare<[string], { position: bigint }>(
      `SELECT position FROM ${checkpointTable} WHERE projection = ?`,
    );
    const writeCheckpoint = this.db.prepare<[string, bigint]>(checkpointWriteSql(checkpointTable));
    return {
      // One query for a whole batch of names, passed as a JSON array.
      selectByStreamNames: this.db.prepare(
        `SELECT ${SUMMARY_COLUMNS} FROM ${table}
         WHERE stream_name IN (SELECT value FROM json_each(?))`,
      ),
      writeCheckpoint,
      readCheckpoint: (projection) => selectCheckpoint.get(projection)?.position ?? null,
    };
  }

  /**
   * The copy is filled without secondary indexes (bulk inserts into a bare table are about twice
   * as fast) and indexed here, once, before the first swap attempt. One transaction per index:
   * each holds the file's write lock for well under a second on a million events
   * (bench:rebuild), so a live projection waiting on it stays far inside busy_timeout.
   */
  /**
   * Indexes are built once the copy is full (sorting the rows once beats updating ten indexes per
   * insert). The sorts may use the second core and a larger page cache: on the 275,000 summaries
   * of bench:rebuild that takes building the ten indexes from about 1.3 s to 1.0-1.2 s.
   */
  private indexRebuildTable(): void {
    const prefix = `summaries_${Date.now().toString(36)}`;
    const cacheSize: unknown = this.db.pragma('cache_size', { simple: true });
    this.db.pragma(`threads = ${INDEX_SORT_THREADS}`);
    this.db.pragma(`cache_size = ${INDEX_BUILD_CACHE_KIB}`);
    try {
      for (const statement of summaryIndexesSql(REBUILD_TABLE, prefix)) this.db.exec(statement);
    } finally {
      this.db.pragma('threads = 0');
      this.db.pragma(`cache_size = ${String(cacheSize)}`);
    }
    this.rebuildIndexed = true;
  }

  private rebuildTable(projection: string): RebuildTable {
    assertRebuildable(projection);
    if (!this.rebuild) throw new Error(`no rebuild of ${projection} was begun here`);
    return this.rebuild;
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
            [LIVE_TABLE, REBUILD_TABLE, RETIRED_TABLE, 'checkpoints', 'rebuild_checkpoints']
              .map((table) => `DROP TABLE IF EXISTS ${table};`)
              .join(' '),
          );
          this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        }
        this.db.exec(CHECKPOINT_TABLES);
        const exists = this.db
          .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?")
          .get(LIVE_TABLE);
        // A rebuilt table carries indexes under its rebuild's names: never add a second set.
        if (!exists) {
          this.db.exec(summaryTableSql(LIVE_TABLE));
          for (const statement of summaryIndexesSql(LIVE_TABLE, LIVE_TABLE))
            this.db.exec(statement);
        }
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
