import { describeWithContainers, useMongoDatabases } from '../../../test/support/containers';
import { deposited, opened, recordedAccountEvents } from '../../../test/support/account-history';
import { projectAccountRows } from '../../accounts/account-balances.projection';
import { describeAccountReadModelContract } from '../../accounts/account-read-model.contract';
import {
  ACCOUNT_READ_MODEL_COLLECTIONS,
  MongoAccountReadModel,
} from './mongodb-account-read-model';

describeWithContainers('MongoAccountReadModel', () => {
  const { newDatabase } = useMongoDatabases('account_read_model_test');

  describeAccountReadModelContract('MongoDB', {
    async openEmpty() {
      const db = newDatabase();
      return {
        readModel: await MongoAccountReadModel.open(db),
        reopen: () => MongoAccountReadModel.open(db),
      };
    },
  });

  it('keeps balances and entries in account_balances and account_entries; a swap deletes the old copy', async () => {
    const db = newDatabase();
    const readModel = await MongoAccountReadModel.open(db);
    const events = recordedAccountEvents('alice', 'KES', [
      opened('alice', 'KES'),
      deposited('d-1', 5),
    ]);
    const rows = [...projectAccountRows(events, new Map()).values()];
    await readModel.commit({ rows, checkpoint: 2n });
    expect(await db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.balances).countDocuments()).toBe(1);
    expect(await db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.entries).countDocuments()).toBe(1);

    await readModel.beginRebuild();
    await readModel.commitRebuild({ rows, checkpoint: 2n });
    expect(await readModel.finishRebuild()).toEqual({ swapped: true, checkpoint: 2n });
    expect(await db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.balances).countDocuments()).toBe(1);
    expect(await db.collection(ACCOUNT_READ_MODEL_COLLECTIONS.entries).countDocuments()).toBe(1);
    await readModel.close();
  });
});
