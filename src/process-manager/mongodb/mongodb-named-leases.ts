import { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../../mongodb/duplicate-key';
import { assertEpochMs, assertPositiveInteger } from '../../shared/argument-checks';
import { NamedLeases } from '../named-leases.port';
import { WORK_STORE_COLLECTIONS } from './mongodb-work-store';
import { LeaseDocument, takeableLeaseFilter } from './work-documents';

/**
 * The scaled-out named leases: one document per name in the work store's `work_leases`
 * collection, shared by every instance. Each call is one conditional write, so two instances
 * racing for a lease never both get it.
 *
 * The store does not own the MongoClient (MongoConnectionModule does): close() only stops this
 * handle from being used.
 */
export class MongoNamedLeases extends NamedLeases {
  private readonly leases: Collection<LeaseDocument>;
  private closed = false;

  constructor(private readonly db: Db) {
    super();
    this.leases = db.collection<LeaseDocument>(WORK_STORE_COLLECTIONS.leases);
  }

  override async acquire(
    name: string,
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean> {
    assertEpochMs('now', now);
    assertPositiveInteger('leaseMs', leaseMs);
    const leases = this.collection();
    const takeable = takeableLeaseFilter(name, owner, now);
    const take = { $set: { owner, until: now + leaseMs } };
    try {
      // Matches a free, expired or own lease, or inserts the name when nobody ever held it.
      await leases.updateOne(takeable, take, { upsert: true });
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // The filter matched nothing, so the upsert tried to insert a name that exists: another
      // owner holds the lease, or a concurrent call of this owner inserted it first, in which
      // case this update renews it.
      const { matchedCount } = await leases.updateOne(takeable, take);
      return matchedCount === 1;
    }
  }

  override async release(name: string, owner: string): Promise<void> {
    await this.collection().deleteOne({ _id: name, owner });
  }

  async ping(): Promise<void> {
    this.collection();
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private collection(): Collection<LeaseDocument> {
    if (this.closed) throw new Error('The MongoDB named leases are closed');
    return this.leases;
  }
}
