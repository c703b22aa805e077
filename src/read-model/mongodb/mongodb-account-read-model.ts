import { ClientSession, Collection, Db, TransactionOptions, WriteConcern } from 'mongodb';
import { accountStreamName } from '../../accounts/account-id';
import {
  AccountBalance,
  AccountEntry,
  AccountReadModel,
  AccountReadModelChange,
  AccountRebuildSwap,
  BalancePage,
  CurrencyBalances,
  EntryPage,
  ListEntriesQuery,
} from '../../accounts/account-read-model.port';
import { fromSortableString, toSortableString } from '../../mongodb/sortable-bigint';
import { assertLimit } from '../../transactions/read-model.port';
import { hasErrorCode, MONGO_ERROR_CODES } from './summary-writes';

export const ACCOUNT_READ_MODEL_COLLECTIONS = {
  balances: 'account_balances',
  entries: 'account_entries',
  generations: 'account_generations',
  checkpoints: 'account_checkpoints',
} as const;

type Generation = number;

/** Revisions and positions are stored as numbers and sortable strings respectively. */
type StoredBalance = Omit<AccountBalance, 'revision'> & { revision: number };
type StoredEntry = Omit<AccountEntry, 'revision'> & { revision: number };

interface BalanceDocument extends StoredBalance {
  _id: string;
  generation: Generation;
}

interface EntryDocument extends StoredEntry {
  _id: string;
  generation: Generation;
}

/**
 * Which copy is live, like the summaries' (summary-generations.ts): MongoDB cannot rename a
 * collection in a transaction, so every document carries its copy's generation, and a swap
 * flips `live` in the transaction that checks the checkpoints. Every live commit bumps
 * `liveCommits`, so it conflicts with a concurrent swap instead of writing into the old copy.
 */
interface GenerationsDocument {
  _id: 'account-balances';
  live: Generation;
  rebuild: Generation | null;
  lastGeneration: Generation;
  liveCommits: number;
}

/** A copy's checkpoint, keyed by its generation. */
interface CheckpointDocument {
  _id: Generation;
  position: string;
}

const GENERATIONS_ID = 'account-balances';

const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

function fromBalanceDocument(document: BalanceDocument): AccountBalance {
  const { _id, generation, ...balance } = document;
  return { ...balance, revision: BigInt(balance.revision) };
}

function fromEntryDocument(document: EntryDocument): AccountEntry {
  const { _id, generation, ...entry } = document;
  return { ...entry, revision: BigInt(entry.revision) };
}

async function createCollectionUnlessExists(db: Db, name: string): Promise<void> {
  try {
    await db.createCollection(name);
  } catch (error) {
    if (!hasErrorCode(error, MONGO_ERROR_CODES.namespaceExists)) throw error;
  }
}

/**
 * The scaled-out account read model: `account_balances` and `account_entries` in the MongoDB
 * database the summaries use. It does not own the client: close() only refuses further calls.
 */
export class MongoAccountReadModel extends AccountReadModel {
  private readonly balances: Collection<BalanceDocument>;
  private readonly entries: Collection<EntryDocument>;
  private readonly generations: Collection<GenerationsDocument>;
  private readonly checkpoints: Collection<CheckpointDocument>;
  private closed = false;

  private constructor(private readonly db: Db) {
    super();
    this.balances = db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.balances);
    this.entries = db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.entries);
    this.generations = db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.generations);
    this.checkpoints = db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.checkpoints);
  }

  /** Creates the collections, indexes and generations document if missing; idempotent. */
  static async open(db: Db): Promise<MongoAccountReadModel> {
    for (const name of Object.values(ACCOUNT_READ_MODEL_COLLECTIONS)) {
      await createCollectionUnlessExists(db, name);
    }
    const model = new MongoAccountReadModel(db);
    await model.balances.createIndexes([
      { key: { generation: 1, owner: 1, currency: 1 }, name: 'by_owner' },
      { key: { generation: 1, streamName: 1 }, name: 'by_stream', unique: true },
    ]);
    await model.entries.createIndex(
      { generation: 1, streamName: 1, revision: -1 },
      { name: 'newest_first' },
    );
    await model.generations.updateOne(
      { _id: GENERATIONS_ID },
      { $setOnInsert: { live: 0, rebuild: null, lastGeneration: 0, liveCommits: 0 } },
      { upsert: true },
    );
    return model;
  }

  private inTransaction<T>(work: (session: ClientSession) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the account read model is closed'));
    return this.db.client.withSession((session) =>
      session.withTransaction(() => work(session), TRANSACTION_OPTIONS),
    );
  }

  private async readGenerations(session: ClientSession): Promise<GenerationsDocument> {
    const generations = await this.generations.findOne({ _id: GENERATIONS_ID }, { session });
    if (!generations) throw new Error('the account read model was not opened (no generations)');
    return generations;
  }

  private async checkpointOf(
    generation: Generation | null,
    session: ClientSession,
  ): Promise<bigint | null> {
    if (generation === null) return null;
    const document = await this.checkpoints.findOne({ _id: generation }, { session });
    return document ? fromSortableString(document.position) : null;
  }

  private async loadFrom(
    generation: Generation,
    streamNames: string[],
    session: ClientSession,
  ): Promise<Map<string, AccountBalance>> {
    const balances = new Map<string, AccountBalance>();
    if (streamNames.length === 0) return balances;
    const documents = await this.balances
      .find({ generation, streamName: { $in: streamNames } }, { session })
      .toArray();
    for (const document of documents)
      balances.set(document.streamName, fromBalanceDocument(document));
    return balances;
  }

  /** Balances only move forwards (revision); entries are written once; the checkpoint grows. */
  private async write(
    generation: Generation,
    change: AccountReadModelChange,
    session: ClientSession,
  ): Promise<void> {
    for (const row of change.rows) {
      if (row.kind === 'balance') {
        const document: BalanceDocument = {
          ...row.balance,
          revision: Number(row.balance.revision),
          _id: `${generation}:${row.balance.streamName}`,
          generation,
        };
        await this.balances.updateOne(
          { _id: document._id },
          [
            {
              $replaceWith: {
                $cond: [
                  { $lt: [{ $ifNull: ['$revision', -1] }, document.revision] },
                  { $literal: document },
                  '$$ROOT',
                ],
              },
            },
          ],
          { upsert: true, session },
        );
      } else {
        const document: EntryDocument = {
          ...row.entry,
          revision: Number(row.entry.revision),
          _id: `${generation}:${row.entry.entryId}`,
          generation,
        };
        await this.entries.updateOne(
          { _id: document._id },
          { $setOnInsert: document },
          { upsert: true, session },
        );
      }
    }
    await this.checkpoints.updateOne(
      { _id: generation },
      { $max: { position: toSortableString(change.checkpoint) } },
      { upsert: true, session },
    );
  }

  private readLive<T>(read: (session: ClientSession, live: Generation) => Promise<T>): Promise<T> {
    return this.inTransaction(async (session) =>
      read(session, (await this.readGenerations(session)).live),
    );
  }

  checkpoint(): Promise<bigint | null> {
    return this.readLive((session, live) => this.checkpointOf(live, session));
  }

  loadBalances(streamNames: string[]): Promise<Map<string, AccountBalance>> {
    return this.readLive((session, live) => this.loadFrom(live, streamNames, session));
  }

  async commit(change: AccountReadModelChange): Promise<void> {
    await this.inTransaction(async (session) => {
      const generations = await this.generations.findOneAndUpdate(
        { _id: GENERATIONS_ID },
        { $inc: { liveCommits: 1 } },
        { session, returnDocument: 'after' },
      );
      if (!generations) throw new Error('the account read model was not opened (no generations)');
      await this.write(generations.live, change, session);
    });
  }

  async beginRebuild(): Promise<void> {
    const abandoned = await this.inTransaction(async (session) => {
      const { rebuild, lastGeneration } = await this.readGenerations(session);
      await this.generations.updateOne(
        { _id: GENERATIONS_ID },
        { $set: { rebuild: lastGeneration + 1, lastGeneration: lastGeneration + 1 } },
        { session },
      );
      return rebuild;
    });
    if (abandoned !== null) await this.dropGeneration(abandoned);
  }

  private async rebuildGeneration(session: ClientSession): Promise<Generation> {
    const { rebuild } = await this.readGenerations(session);
    if (rebuild === null) throw new Error('no rebuild of the account balances has begun');
    return rebuild;
  }

  loadRebuildBalances(streamNames: string[]): Promise<Map<string, AccountBalance>> {
    return this.inTransaction(async (session) =>
      this.loadFrom(await this.rebuildGeneration(session), streamNames, session),
    );
  }

  async commitRebuild(change: AccountReadModelChange): Promise<void> {
    await this.inTransaction(async (session) =>
      this.write(await this.rebuildGeneration(session), change, session),
    );
  }

  async finishRebuild(): Promise<AccountRebuildSwap> {
    const { swap, replaced } = await this.inTransaction(async (session) => {
      const { live, rebuild } = await this.readGenerations(session);
      const rebuildCheckpoint = await this.checkpointOf(rebuild, session);
      const liveCheckpoint = await this.checkpointOf(live, session);
      if (
        rebuild === null ||
        rebuildCheckpoint === null ||
        (liveCheckpoint !== null && rebuildCheckpoint < liveCheckpoint)
      ) {
        const behind: AccountRebuildSwap = { swapped: false, rebuildCheckpoint, liveCheckpoint };
        return { swap: behind, replaced: null };
      }
      await this.generations.updateOne(
        { _id: GENERATIONS_ID },
        { $set: { live: rebuild, rebuild: null } },
        { session },
      );
      const swapped: AccountRebuildSwap = { swapped: true, checkpoint: rebuildCheckpoint };
      return { swap: swapped, replaced: live };
    });
    if (replaced !== null) await this.dropGeneration(replaced);
    return swap;
  }

  async abandonRebuild(): Promise<void> {
    const abandoned = await this.inTransaction(async (session) => {
      const { rebuild } = await this.readGenerations(session);
      await this.generations.updateOne(
        { _id: GENERATIONS_ID },
        { $set: { rebuild: null } },
        { session },
      );
      return rebuild;
    });
    if (abandoned !== null) await this.dropGeneration(abandoned);
  }

  /** Outside a transaction: a copy nobody reads any more may be deleted in any number of steps. */
  private async dropGeneration(generation: Generation): Promise<void> {
    await this.balances.deleteMany({ generation });
    await this.entries.deleteMany({ generation });
    await this.checkpoints.deleteOne({ _id: generation });
  }

  listAccounts(owner: string): Promise<AccountBalance[]> {
    return this.readLive(async (session, generation) =>
      (
        await this.balances.find({ generation, owner }, { session }).sort({ currency: 1 }).toArray()
      ).map(fromBalanceDocument),
    );
  }

  findAccount(owner: string, currency: string): Promise<AccountBalance | null> {
    const streamName = accountStreamName(owner, currency);
    return this.readLive(async (session, generation) => {
      const document = await this.balances.findOne({ generation, streamName }, { session });
      return document ? fromBalanceDocument(document) : null;
    });
  }

  listEntries({ owner, currency, before, limit }: ListEntriesQuery): Promise<EntryPage> {
    assertLimit(limit);
    const streamName = accountStreamName(owner, currency);
    return this.readLive(async (session, generation) => {
      const documents = await this.entries
        .find(
          {
            generation,
            streamName,
            ...(before === undefined ? {} : { revision: { $lt: Number(before) } }),
          },
          { session },
        )
        .sort({ revision: -1 })
        .limit(limit + 1)
        .toArray();
      const items = documents.slice(0, limit).map(fromEntryDocument);
      return {
        items,
        nextBefore: documents.length > limit ? items[items.length - 1].revision : null,
      };
    });
  }

  scanBalances({ after, limit }: { after?: string; limit: number }): Promise<BalancePage> {
    assertLimit(limit);
    return this.readLive(async (session, generation) => {
      const documents = await this.balances
        .find(
          { generation, ...(after === undefined ? {} : { streamName: { $gt: after } }) },
          { session },
        )
        .sort({ streamName: 1 })
        .limit(limit + 1)
        .toArray();
      const items = documents.slice(0, limit).map(fromBalanceDocument);
      return {
        items,
        nextAfter: documents.length > limit ? items[items.length - 1].streamName : null,
      };
    });
  }

  currencyBalances(): Promise<CurrencyBalances[]> {
    return this.readLive(async (session, generation) => {
      const rows = await this.balances
        .aggregate<{
          _id: string;
          posted: number;
          pending: number;
          fundingPosted: number;
          fundingPending: number;
          clearingPosted: number;
          clearingPending: number;
        }>(
          [
            { $match: { generation } },
            {
              $group: {
                _id: '$currency',
                posted: { $sum: '$posted' },
                pending: { $sum: '$pending' },
                fundingPosted: { $sum: '$funding.posted' },
                fundingPending: { $sum: '$funding.pending' },
                clearingPosted: { $sum: '$clearing.posted' },
                clearingPending: { $sum: '$clearing.pending' },
              },
            },
            { $sort: { _id: 1 } },
          ],
          { session },
        )
        .toArray();
      return rows.map((row) => ({
        currency: row._id,
        customers: { posted: row.posted, pending: 0 - row.pending },
        funding: { posted: row.fundingPosted, pending: row.fundingPending },
        clearing: { posted: row.clearingPosted, pending: row.clearingPending },
      }));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
