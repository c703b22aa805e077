import type { Db } from 'mongodb';
import { describeWithContainers, useMongoDatabases } from '../../../test/support/containers';
import { describeReadModelContract } from '../../transactions/read-model.contract';
import { ReadModel, TransactionSummary } from '../../transactions/read-model.port';
import { MongoReadModel, READ_MODEL_COLLECTIONS } from './mongodb-read-model';
import { SUMMARY_INDEXES } from './summary-queries';

const PROJECTION = 'transaction-summaries';

function pendingSummary(
  owner: string,
  clientId: string,
  position: bigint,
  revision = 0n,
): TransactionSummary {
  return {
    streamName: `transaction-${owner}-${clientId}`,
    owner,
    clientId,
    status: 'PENDING',
    requestedPosition: position,
    revision,
    state: { exists: false },
  };
}

describeWithContainers('MongoReadModel', () => {
  const { newDatabase } = useMongoDatabases('read_model_test');

  describeReadModelContract('MongoDB', {
    async openEmpty() {
      const db = newDatabase();
      return { readModel: await MongoReadModel.open(db), reopen: () => MongoReadModel.open(db) };
    },
  });

  describe('beyond the contract', () => {
    let models: ReadModel[] = [];

    async function open(db: Db): Promise<ReadModel> {
      const readModel = await MongoReadModel.open(db);
      models.push(readModel);
      return readModel;
    }

    afterEach(async () => {
      await Promise.all(models.map((model) => model.close()));
      models = [];
    });

    it('creates its indexes at start-up, and opening again changes nothing', async () => {
      const db = newDatabase();
      await open(db);
      await open(db);

      const indexes = await db.collection(READ_MODEL_COLLECTIONS.summaries).indexes();
      expect(indexes.map((index) => index.name).sort()).toStrictEqual(
        ['_id_', ...SUMMARY_INDEXES.map((index) => index.name)].sort(),
      );
    });

    it('orders and pages positions beyond 2^64 exactly', async () => {
      const readModel = await open(newDatabase());
      const positions = [2n ** 64n - 1n, 2n ** 64n, 2n ** 64n + 1n, 2n ** 100n, 2n ** 127n];
      const summaries = positions.map((position, i) => pendingSummary('alice', `c${i}`, position));
      await readModel.commit(PROJECTION, { summaries, checkpoint: 2n ** 127n });

      const first = await readModel.listSummaries({ owner: 'alice', limit: 2 });
      expect(first.items).toStrictEqual([summaries[4], summaries[3]]);
      expect(first.nextBefore).toBe(2n ** 100n);
      const rest = await readModel.listSummaries({ owner: 'alice', before: 2n ** 100n, limit: 5 });
      expect(rest.items).toStrictEqual([summaries[2], summaries[1], summaries[0]]);
      expect(await readModel.checkpoint(PROJECTION)).toBe(2n ** 127n);
    });

    it('rejects a checkpoint that cannot be stored in order, changing nothing', async () => {
      const readModel = await open(newDatabase());
      await expect(
        readModel.commit(PROJECTION, {
          summaries: [pendingSummary('alice', 'c1', 1n)],
          checkpoint: 10n ** 40n,
        }),
      ).rejects.toThrow(RangeError);
      expect(await readModel.findSummary('alice', 'c1')).toBeNull();
    });

    it('ends concurrent commits of one stream from two instances on the newest revision', async () => {
      const db = newDatabase();
      const [first, second] = [await open(db), await open(db)];
      const revisions = Array.from({ length: 20 }, (_, i) => BigInt(i));

      // Write conflicts between the two are retried by withTransaction, each retry re-reading.
      await Promise.all(
        revisions.map((revision, i) =>
          (i % 2 === 0 ? first : second).commit(PROJECTION, {
            summaries: [pendingSummary('alice', 'c1', 1n, revision)],
            checkpoint: revision + 1n,
          }),
        ),
      );

      expect((await first.findSummary('alice', 'c1'))?.revision).toBe(19n);
      expect(await second.checkpoint(PROJECTION)).toBe(20n);
    });

    it('swaps a rebuild in under another instance, which then queries and commits the new copy', async () => {
      const db = newDatabase();
      const service = await open(db);
      const rebuilder = await open(db);
      await service.commit(PROJECTION, {
        summaries: [pendingSummary('alice', 'c1', 1n)],
        checkpoint: 1n,
      });

      await rebuilder.beginRebuild(PROJECTION);
      await rebuilder.commitRebuild(PROJECTION, {
        summaries: [pendingSummary('alice', 'c1', 1n, 1n), pendingSummary('bob', 'c2', 2n)],
        checkpoint: 2n,
      });
      expect(await rebuilder.finishRebuild(PROJECTION)).toStrictEqual({
        swapped: true,
        checkpoint: 2n,
      });

      expect((await service.findSummary('bob', 'c2'))?.requestedPosition).toBe(2n);
      await service.commit(PROJECTION, {
        summaries: [pendingSummary('carol', 'c3', 3n)],
        checkpoint: 3n,
      });
      expect((await rebuilder.searchSummaries({ limit: 10 })).items.map((s) => s.owner)).toEqual([
        'carol',
        'bob',
        'alice',
      ]);
      // Only the swapped-in copy is left.
      expect(await db.collection(READ_MODEL_COLLECTIONS.summaries).countDocuments()).toBe(3);
    });

    it('does not let an abandoned run drop the rebuild that superseded it', async () => {
      const db = newDatabase();
      const abandoned = await open(db);
      const current = await open(db);
      await abandoned.beginRebuild(PROJECTION);
      await current.beginRebuild(PROJECTION);
      await current.commitRebuild(PROJECTION, {
        summaries: [pendingSummary('alice', 'c1', 1n)],
        checkpoint: 1n,
      });

      await expect(
        abandoned.commitRebuild(PROJECTION, { summaries: [], checkpoint: 5n }),
      ).rejects.toThrow(/superseded/);
      await abandoned.abandonRebuild(PROJECTION);

      expect(await current.finishRebuild(PROJECTION)).toStrictEqual({
        swapped: true,
        checkpoint: 1n,
      });
      expect((await abandoned.findSummary('alice', 'c1'))?.streamName).toBe('transaction-alice-c1');
    });

    it('rejects every call once closed', async () => {
      const readModel = await open(newDatabase());
      await readModel.close();
      await expect(readModel.ping()).rejects.toThrow(/closed/);
      await expect(readModel.checkpoint(PROJECTION)).rejects.toThrow(/closed/);
      await expect(readModel.findSummary('alice', 'c1')).rejects.toThrow(/closed/);
    });
  });
});
