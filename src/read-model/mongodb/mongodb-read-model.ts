import { ClientSession, Collection, Db, Sort, TransactionOptions, WriteConcern } from 'mongodb';
import {
  assertLimit,
  ListSummariesQuery,
  ReadModel,
  RebuildSwap,
  ReconciliationQueuePage,
  ReconciliationQueueQuery,
  SearchSummariesQuery,
  SummaryPage,
  SummaryStatistics,
  TransactionSummary,
} from '../../transactions/read-model.port';
import { fromSortableString, toSortableString } from '../../mongodb/sortable-bigint';
import {
  fromSummaryDocument,
  fromSummaryKeyDocument,
  Generation,
  STORED_SUMMARY_FIELDS,
  STORED_SUMMARY_KEY_FIELDS,
  StoredSummary,
  SummaryDocument,
  summaryDocumentId,
  toSummaryDocument,
} from './summary-documents';
import {
  abandonedGeneration,
  Generations,
  GenerationsDocument,
  generationsInsertedBeside,
  INITIAL_GENERATIONS,
} from './summary-generations';
import { swapDecision } from '../rebuild-swap';
import { newestFirstPage } from '../summary-pages';
import {
  listSummariesFilter,
  NEWEST_FIRST,
  OLDEST_FIRST,
  openCasesFilter,
  pendingTooLongFilter,
  queueSizeFilters,
  reconciliationQueuePage,
  searchSummariesFilter,
  SUMMARY_INDEXES,
  SummaryFilter,
} from './summary-queries';
import { statisticsPipeline } from './summary-statistics';
import { foldStatistics, StatisticsGroup } from '../summary-statistics';
import { asCommitRejection, hasErrorCode, MONGO_ERROR_CODES } from './summary-writes';
import { StoredSummaryKey, summariesToWrite } from '../summary-commits';

/** Prefixed: the work store keeps its collections in the same database. */
export const READ_MODEL_COLLECTIONS = {
  summaries: 'read_model_summaries',
  generations: 'read_model_generations',
  checkpoints: 'read_model_checkpoints',
  rebuildCheckpoints: 'read_model_rebuild_checkpoints',
} as const;

/** The projection whose rows are the summaries; the only one that can be rebuilt. */
const SUMMARY_PROJECTION = 'transaction-summaries';

/** A projection's live checkpoint. */
interface CheckpointDocument {
  _id: string;
  position: string;
}

/** A rebuild's checkpoint, keyed by its generation: a superseded run can never move a newer one's. */
interface RebuildCheckpointDocument {
  _id: Generation;
  position: string;
}

/**
 * Every multi-document read and write runs in a transaction on the primary. Snapshot read
 * concern: all reads of one transaction see one point in time (the generation and the summaries
 * it names); majority write concern: a commit that returned survives a failover, and the snapshot
 * guarantee holds only for transactions that commit with it.
 */
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

function assertRebuildable(projection: string): void {
  if (projection !== SUMMARY_PROJECTION) {
    throw new Error(`the read model has no rebuildable copy for projection "${projection}"`);
  }
}

/** Created up front, so that no transaction has to create a collection. */
async function createCollectionUnlessExists(db: Db, name: string): Promise<void> {
  try {
    await db.createCollection(name);
  } catch (error) {
    // Another instance starting at the same time, or any earlier start.
    if (!hasErrorCode(error, MONGO_ERROR_CODES.namespaceExists)) throw error;
  }
}

/**
 * The scaled-out read model: summaries, checkpoints and rebuild copies in one MongoDB database
 * (a replica set: commits are multi-document transactions). See summary-generations.ts for how
 * a rebuilt copy is swapped in, and summary-queries.ts for which index serves which query.
 *
 * It does not own the MongoClient (MongoConnectionModule does, shared with the work store):
 * close() only refuses further calls. Open it with `MongoReadModel.open`, which creates the
 * indexes the queries need.
 */
export class MongoReadModel extends ReadModel {
  private readonly summaries: Collection<SummaryDocument>;
  private readonly generations: Collection<GenerationsDocument>;
  private readonly checkpoints: Collection<CheckpointDocument>;
  private readonly rebuildCheckpoints: Collection<RebuildCheckpointDocument>;
  private closed = false;
  /** The copy this instance's beginRebuild created, until it is swapped in or abandoned. */
  private rebuildGeneration: Generation | null = null;

  private constructor(private readonly db: Db) {
    super();
    this.summaries = db.collection(READ_MODEL_COLLECTIONS.summaries);
    this.generations = db.collection(READ_MODEL_COLLECTIONS.generations);
    this.checkpoints = db.collection(READ_MODEL_COLLECTIONS.checkpoints);
    this.rebuildCheckpoints = db.collection(READ_MODEL_COLLECTIONS.rebuildCheckpoints);
  }

  /**
   * Creates the collections, the indexes and the generations document if missing; idempotent,
   * and safe for several instances starting together. An index of the same name but another
   * definition makes it fail loudly rather than run the queries without it.
   */
  static async open(db: Db): Promise<MongoReadModel> {
    await createCollectionUnlessExists(db, READ_MODEL_COLLECTIONS.checkpoints);
    await createCollectionUnlessExists(db, READ_MODEL_COLLECTIONS.rebuildCheckpoints);
    await db
      .collection<SummaryDocument>(READ_MODEL_COLLECTIONS.summaries)
      .createIndexes(SUMMARY_INDEXES);
    // The server retries an upsert by _id that races another into a duplicate key.
    await db
      .collection<GenerationsDocument>(READ_MODEL_COLLECTIONS.generations)
      .updateOne(
        { _id: SUMMARY_PROJECTION },
        { $setOnInsert: INITIAL_GENERATIONS },
        { upsert: true },
      );
    return new MongoReadModel(db);
  }

  async checkpoint(projection: string): Promise<bigint | null> {
    this.assertOpen();
    return this.liveCheckpoint(projection);
  }

  async loadSummaries(streamNames: string[]): Promise<Map<string, TransactionSummary>> {
    this.assertOpen();
    if (streamNames.length === 0) return new Map();
    return this.readLive((session, generation) => this.loadFrom(generation, streamNames, session));
  }

  async commit(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void> {
    this.assertOpen();
    const position = toSortableString(change.checkpoint);
    await this.commitInTransaction(async (session) => {
      const { live } = await this.lockGenerations(session);
      await this.writeSummaries(live, change.summaries, session);
      // $max: never backwards, e.g. when a runner that was behind a swapped-in copy commits.
      await this.checkpoints.updateOne(
        { _id: projection },
        { $max: { position } },
        { upsert: true, session },
      );
    });
  }

  async beginRebuild(projection: string): Promise<void> {
    this.assertOpen();
    assertRebuildable(projection);
    const { live, rebuild } = await this.inTransaction(async (session) => {
      const allocated = await this.generations.findOneAndUpdate(
        { _id: SUMMARY_PROJECTION },
        { $inc: { lastGeneration: 1 }, $setOnInsert: generationsInsertedBeside('lastGeneration') },
        { upsert: true, returnDocument: 'after', session },
      );
      if (allocated === null) throw new Error('an upsert returning the document returned none');
      await this.generations.updateOne(
        { _id: SUMMARY_PROJECTION },
        { $set: { rebuild: allocated.lastGeneration } },
        { session },
      );
      await this.rebuildCheckpoints.deleteMany({}, { session });
      return { live: allocated.live, rebuild: allocated.lastGeneration };
    });
    // Outside the transaction, which must stay small: whatever earlier rebuilds left behind (an
    // unfinished copy, or a replaced one whose deletion failed) may be millions of documents.
    await this.summaries.deleteMany({ generation: { $nin: [live, rebuild] } });
    this.rebuildGeneration = rebuild;
  }

  async loadRebuildSummaries(
    projection: string,
    streamNames: string[],
  ): Promise<Map<string, TransactionSummary>> {
    const generation = this.begunRebuild(projection);
    if (streamNames.length === 0) return new Map();
    return this.loadFrom(generation, streamNames);
  }

  async commitRebuild(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void> {
    const generation = this.begunRebuild(projection);
    const position = toSortableString(change.checkpoint);
    // Reads the generations document without writing it: live commits write it, and a rebuild
    // batch must not conflict with them.
    await this.commitInTransaction(async (session) => {
      await this.assertStillRebuilding(generation, session);
      await this.writeSummaries(generation, change.summaries, session);
      await this.rebuildCheckpoints.updateOne(
        { _id: generation },
        { $max: { position } },
        { upsert: true, session },
      );
    });
  }

  async finishRebuild(projection: string): Promise<RebuildSwap> {
    const generation = this.begunRebuild(projection);
    // Writes the generations document, as every live commit does: a live commit running at the
    // same time conflicts, and one of the two is retried after the other, so the live
    // projection either committed before the checkpoints were compared or commits into the new
    // copy afterwards (where its older revisions are left out).
    const { swap, replaced } = await this.inTransaction(async (session) => {
      const { live } = await this.assertStillRebuilding(generation, session);
      const liveCheckpoint = await this.liveCheckpoint(projection, session);
      const rebuildCheckpoint = await this.rebuildCheckpoint(generation, session);
      const decision = swapDecision(liveCheckpoint, rebuildCheckpoint);
      if (!decision.swapped) return { swap: decision, replaced: null };
      await this.generations.updateOne(
        { _id: SUMMARY_PROJECTION },
        { $set: { live: generation, rebuild: null } },
        { session },
      );
      await this.checkpoints.updateOne(
        { _id: projection },
        { $max: { position: toSortableString(decision.checkpoint) } },
        { upsert: true, session },
      );
      await this.rebuildCheckpoints.deleteOne({ _id: generation }, { session });
      return { swap: decision, replaced: live };
    });
    if (replaced === null) return swap;
    this.rebuildGeneration = null;
    try {
      // Queries in flight read the replaced copy from their own snapshot, undisturbed.
      await this.summaries.deleteMany({ generation: replaced });
    } catch (error) {
      throw new Error(
        `the rebuilt ${projection} copy was swapped in, but deleting the replaced copy ` +
          `(generation ${replaced}) failed; the next beginRebuild deletes it`,
        { cause: error },
      );
    }
    return swap;
  }

  async abandonRebuild(projection: string): Promise<void> {
    this.assertOpen();
    assertRebuildable(projection);
    const begunHere = this.rebuildGeneration;
    this.rebuildGeneration = null;
    const abandoned = await this.inTransaction(async (session) => {
      const generations = await this.readGenerations(session);
      const generation = abandonedGeneration(begunHere, generations);
      if (generation === null) return null;
      if (generations.rebuild === generation) {
        await this.generations.updateOne(
          { _id: SUMMARY_PROJECTION },
          { $set: { rebuild: null } },
          { session },
        );
      }
      await this.rebuildCheckpoints.deleteOne({ _id: generation }, { session });
      return generation;
    });
    if (abandoned !== null) await this.summaries.deleteMany({ generation: abandoned });
  }

  async findSummary(owner: string, clientId: string): Promise<TransactionSummary | null> {
    this.assertOpen();
    return this.readLive((session, generation) =>
      this.findOneSummary({ generation, owner, clientId }, session),
    );
  }

  async listSummaries(query: ListSummariesQuery): Promise<SummaryPage> {
    this.assertOpen();
    assertLimit(query.limit);
    return this.readLive(async (session, generation) => {
      const filter = listSummariesFilter(generation, query);
      const rows = filter
        ? await this.findSummaries(filter, NEWEST_FIRST, query.limit + 1, session)
        : [];
      return newestFirstPage(rows, query.limit);
    });
  }

  async findSummaryByTransactionId(transactionId: string): Promise<TransactionSummary | null> {
    this.assertOpen();
    return this.readLive((session, generation) =>
      this.findOneSummary({ generation, transactionId }, session),
    );
  }

  async searchSummaries(query: SearchSummariesQuery): Promise<SummaryPage> {
    this.assertOpen();
    assertLimit(query.limit);
    return this.readLive(async (session, generation) => {
      const filter = searchSummariesFilter(generation, query);
      const rows = filter
        ? await this.findSummaries(filter, NEWEST_FIRST, query.limit + 1, session)
        : [];
      return newestFirstPage(rows, query.limit);
    });
  }

  async reconciliationQueue(query: ReconciliationQueueQuery): Promise<ReconciliationQueuePage> {
    this.assertOpen();
    assertLimit(query.limit);
    const { pendingRequestedBefore, after, limit } = query;
    // Two index walks, each stopping after limit + 1 matches, merged in memory: an $or sorted by
    // position could walk every summary in position order instead.
    return this.readLive(async (session, generation) => {
      const openCases = openCasesFilter(generation, after);
      const pending = pendingTooLongFilter(generation, pendingRequestedBefore, after);
      // One after the other: a transaction's operations must not run concurrently.
      const withCase = openCases
        ? await this.findSummaries(openCases, OLDEST_FIRST, limit + 1, session)
        : [];
      const tooOld = pending
        ? await this.findSummaries(pending, OLDEST_FIRST, limit + 1, session)
        : [];
      return reconciliationQueuePage(withCase, tooOld, query);
    });
  }

  /** Two counts in one snapshot: the open cases, and the pending ones too old without a case. */
  async reconciliationQueueSize(pendingRequestedBefore: string): Promise<number> {
    this.assertOpen();
    return this.readLive(async (session, generation) => {
      const [openCases, pendingTooLong] = queueSizeFilters(generation, pendingRequestedBefore);
      // One after the other: a transaction's operations must not run concurrently.
      const withCase = await this.summaries.countDocuments(openCases, { session });
      const tooOld = await this.summaries.countDocuments(pendingTooLong, { session });
      return withCase + tooOld;
    });
  }

  /** One aggregation in one snapshot, so that every figure describes the same moment. */
  async summaryStatistics(): Promise<SummaryStatistics> {
    this.assertOpen();
    return this.readLive(async (session, generation) => {
      const groups = await this.summaries
        .aggregate<StatisticsGroup>(statisticsPipeline(generation), { session })
        .toArray();
      return foldStatistics(groups);
    });
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the MongoDB read model is closed');
  }

  private begunRebuild(projection: string): Generation {
    this.assertOpen();
    assertRebuildable(projection);
    if (this.rebuildGeneration === null) {
      throw new Error(`no rebuild of ${projection} was begun here`);
    }
    return this.rebuildGeneration;
  }

  /**
   * Runs `work` in a transaction, retried as a whole on a transient error (a write conflict with
   * another commit, a failover): `work` must derive everything it writes from what it reads in
   * the transaction and change nothing outside it, so that a retry is the same commit again.
   */
  private inTransaction<T>(work: (session: ClientSession) => Promise<T>): Promise<T> {
    return this.db.client.withSession((session) =>
      session.withTransaction(() => work(session), TRANSACTION_OPTIONS),
    );
  }

  private async commitInTransaction(work: (session: ClientSession) => Promise<void>) {
    try {
      await this.inTransaction(work);
    } catch (error) {
      throw asCommitRejection(error);
    }
  }

  /** The live generation and what `read` reads from it, in one snapshot. */
  private readLive<T>(
    read: (session: ClientSession, generation: Generation) => Promise<T>,
  ): Promise<T> {
    return this.inTransaction(async (session) =>
      read(session, (await this.readGenerations(session)).live),
    );
  }

  private async readGenerations(session: ClientSession): Promise<Generations> {
    const stored = await this.generations.findOne({ _id: SUMMARY_PROJECTION }, { session });
    return stored ?? INITIAL_GENERATIONS;
  }

  /**
   * Reads the generations document by writing it (MongoDB's "select for update" in a
   * transaction): a swap committing at the same time conflicts with this transaction.
   */
  private async lockGenerations(session: ClientSession): Promise<Generations> {
    const locked = await this.generations.findOneAndUpdate(
      { _id: SUMMARY_PROJECTION },
      { $inc: { liveCommits: 1 }, $setOnInsert: generationsInsertedBeside('liveCommits') },
      { upsert: true, returnDocument: 'after', session },
    );
    if (locked === null) throw new Error('an upsert returning the document returned none');
    return locked;
  }

  private async assertStillRebuilding(
    generation: Generation,
    session: ClientSession,
  ): Promise<Generations> {
    const generations = await this.readGenerations(session);
    if (generations.rebuild !== generation) {
      throw new Error(
        `the rebuild of ${SUMMARY_PROJECTION} begun here (generation ${generation}) was ` +
          'abandoned or superseded by a newer one',
      );
    }
    return generations;
  }

  private async liveCheckpoint(
    projection: string,
    session?: ClientSession,
  ): Promise<bigint | null> {
    const stored = await this.checkpoints.findOne({ _id: projection }, { session });
    return stored ? fromSortableString(stored.position) : null;
  }

  private async rebuildCheckpoint(
    generation: Generation,
    session: ClientSession,
  ): Promise<bigint | null> {
    const stored = await this.rebuildCheckpoints.findOne({ _id: generation }, { session });
    return stored ? fromSortableString(stored.position) : null;
  }

  /** One query for a whole batch of names, by _id. */
  private async loadFrom(
    generation: Generation,
    streamNames: string[],
    session?: ClientSession,
  ): Promise<Map<string, TransactionSummary>> {
    const documents = await this.summaries
      .find<StoredSummary>(
        { _id: { $in: streamNames.map((name) => summaryDocumentId(generation, name)) } },
        { projection: STORED_SUMMARY_FIELDS, session },
      )
      .toArray();
    return new Map(
      documents.map((document) => [document.streamName, fromSummaryDocument(document)]),
    );
  }

  /**
   * Inside a commit's transaction: reads what the copy holds for these streams, decides what to
   * write (summariesToWrite throws on a changed fixed field), and replaces those summaries. A
   * write of a document another transaction changed since this one's snapshot is a write
   * conflict, retried with fresh reads, so the decision never rests on stale data.
   */
  private async writeSummaries(
    generation: Generation,
    summaries: TransactionSummary[],
    session: ClientSession,
  ): Promise<void> {
    if (summaries.length === 0) return;
    const ids = [...new Set(summaries.map((s) => summaryDocumentId(generation, s.streamName)))];
    const stored = await this.summaries
      .find<Pick<SummaryDocument, keyof StoredSummaryKey>>(
        { _id: { $in: ids } },
        { projection: STORED_SUMMARY_KEY_FIELDS, session },
      )
      .toArray();
    const toWrite = summariesToWrite(stored.map(fromSummaryKeyDocument), summaries);
    if (toWrite.length === 0) return;
    await this.summaries.bulkWrite(
      toWrite.map((summary) => {
        const { _id, ...replacement } = toSummaryDocument(generation, summary);
        return { replaceOne: { filter: { _id }, replacement, upsert: true } };
      }),
      // An undefined property is left out, as JSON.stringify does in the SQLite adapter, instead
      // of coming back as null.
      { ordered: true, ignoreUndefined: true, session },
    );
  }

  private async findOneSummary(
    filter: SummaryFilter,
    session: ClientSession,
  ): Promise<TransactionSummary | null> {
    const document = await this.summaries.findOne<StoredSummary>(filter, {
      projection: STORED_SUMMARY_FIELDS,
      session,
    });
    return document ? fromSummaryDocument(document) : null;
  }

  private async findSummaries(
    filter: SummaryFilter,
    sort: Sort,
    limit: number,
    session: ClientSession,
  ): Promise<TransactionSummary[]> {
    const documents = await this.summaries
      .find<StoredSummary>(filter, { projection: STORED_SUMMARY_FIELDS, sort, limit, session })
      .toArray();
    return documents.map(fromSummaryDocument);
  }
}
