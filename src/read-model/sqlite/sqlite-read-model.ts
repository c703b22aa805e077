import Database from 'better-sqlite3';
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
  TransactionSummary,
} from '../../transactions/read-model.port';
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
import {
  RECONCILIATION_QUEUE_SIZE_SQL,
  RECONCILIATION_QUEUE_SQL,
  SearchFilter,
  SummaryRow,
  int64Bound,
  listSummariesSql,
  searchSummariesSql,
  toSummary,
} from './sqlite-summary-queries';
import {
  LIVE_TABLE,
  REBUILD_TABLE,
  RETIRED_TABLE,
  SCHEMA_VERSION,
  SUMMARY_PROJECTION,
  indexSummaryTable,
  openSummarySchema,
  summaryTableSql,
} from './sqlite-summary-schema';
import { prepareSummaryStatistics } from './sqlite-summary-statistics';

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
  private readonly selectQueueSize: Database.Statement<{ cutoff: string }, { size: bigint }>;
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
      openSummarySchema(this.db);
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
    this.selectQueue = this.db.prepare(RECONCILIATION_QUEUE_SQL);
    this.selectQueueSize = this.db.prepare(RECONCILIATION_QUEUE_SIZE_SQL);
    this.readStatistics = prepareSummaryStatistics(this.db);
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
    if (!this.rebuildIndexed) {
      indexSummaryTable(this.db, REBUILD_TABLE);
      this.rebuildIndexed = true;
    }
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

  async reconciliationQueueSize(pendingRequestedBefore: string): Promise<number> {
    // Safe integers: COUNT comes back as a bigint.
    return Number(this.selectQueueSize.get({ cutoff: pendingRequestedBefore })?.size ?? 0n);
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

  private rebuildTable(projection: string): RebuildTable {
    assertRebuildable(projection);
    if (!this.rebuild) throw new Error(`no rebuild of ${projection} was begun here`);
    return this.rebuild;
  }

  private searchStatement(
    filters: string[],
  ): Database.Statement<Record<string, unknown>, SummaryRow> {
    const key = filters.sort().join('/');
    let statement = this.searchStatements.get(key);
    if (!statement) {
      statement = this.db.prepare<Record<string, unknown>, SummaryRow>(
        searchSummariesSql(filters as SearchFilter[]),
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
      statement = this.db.prepare<unknown[], SummaryRow>(listSummariesSql(hasStatus, hasBefore));
      this.listStatements.set(key, statement);
    }
    return statement;
  }
}
