import { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { CallerDelta, RateLimitCounters } from '../rate-limit-counters.port';

/** Beside the read model's and the work store's collections in the same database. */
export const RATE_LIMIT_COLLECTION = 'rate_limit_counts';

/** Keeps each query and bulk write far below MongoDB's 16 MB command size. */
const CALLERS_PER_COMMAND = 1_000;

interface CountDocument {
  /** `${windowStart}/${caller}`: an upsert on _id is atomic and retried on a duplicate key. */
  _id: string;
  windowStart: number;
  caller: string;
  count: number;
  /** The window's end, for the TTL index. */
  expiresAt: Date;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

// Imperative shell.

/**
 * The scaled-out counters: one document per caller and window, incremented by an upsert ($inc is
 * atomic, so concurrent instances never lose a request), expired by a TTL index once the window
 * has ended (MongoDB's TTL monitor runs about once a minute, so ended windows linger that long).
 * The MongoClient is MongoConnectionModule's, closed by it: there is nothing of its own to close.
 */
export class MongoRateLimitCounters extends RateLimitCounters {
  private constructor(private readonly counts: Collection<CountDocument>) {
    super();
  }

  static async open(db: Db): Promise<MongoRateLimitCounters> {
    const counts = db.collection<CountDocument>(RATE_LIMIT_COLLECTION);
    await counts.createIndexes([
      { key: { windowStart: 1, count: 1 }, name: 'counts_by_window' },
      { key: { expiresAt: 1 }, name: 'counts_expiry', expireAfterSeconds: 0 },
    ]);
    return new MongoRateLimitCounters(counts);
  }

  override async add(
    windowStart: number,
    windowMs: number,
    deltas: CallerDelta[],
    atLeast: number,
  ): Promise<Map<string, number>> {
    const idOf = (caller: string) => `${windowStart}/${caller}`;
    const expiresAt = new Date(windowStart + windowMs);
    const totals = new Map<string, number>();
    for (const chunk of chunks(deltas, CALLERS_PER_COMMAND)) {
      const operations: AnyBulkWriteOperation<CountDocument>[] = chunk.map(({ caller, count }) => ({
        updateOne: {
          filter: { _id: idOf(caller) },
          update: { $inc: { count }, $setOnInsert: { windowStart, caller, expiresAt } },
          upsert: true,
        },
      }));
      await this.counts.bulkWrite(operations, { ordered: false });
      const ids = chunk.map(({ caller }) => idOf(caller));
      for await (const { caller, count } of this.counts.find({ _id: { $in: ids } })) {
        totals.set(caller, count);
      }
    }
    const nearLimit = this.counts.find({ windowStart, count: { $gte: atLeast } });
    for await (const { caller, count } of nearLimit) totals.set(caller, count);
    return totals;
  }
}
