import { deposited, opened, recordedAccountEvents } from '../../../test/support/account-history';
import { describeAccountReadModelContract } from '../../accounts/account-read-model.contract';
import { projectAccountRows } from '../../accounts/account-balances.projection';
import { MemoryAccountReadModel, MemoryAccountReadModelStorage } from './memory-account-read-model';

describeAccountReadModelContract('memory', {
  async openEmpty() {
    const storage = new MemoryAccountReadModelStorage();
    return {
      readModel: new MemoryAccountReadModel(storage),
      reopen: async () => new MemoryAccountReadModel(storage),
    };
  },
});

/** alice's KES account, opened and given one deposit, as the projection writes it. */
function aliceRows() {
  const events = recordedAccountEvents('alice', 'KES', [
    opened('alice', 'KES'),
    deposited('d-1', 40),
  ]);
  return [...projectAccountRows(events, new Map()).values()];
}

describe('MemoryAccountReadModel', () => {
  it('keeps what it stores apart from what callers pass in and get back', async () => {
    const readModel = new MemoryAccountReadModel(new MemoryAccountReadModelStorage());
    const rows = aliceRows();
    await readModel.commit({ rows, checkpoint: 2n });

    for (const row of rows) {
      if (row.kind === 'balance') row.balance.funding.posted = 1;
      else row.entry.amount = 1;
    }
    const found = await readModel.findAccount('alice', 'KES');
    found!.clearing.pending = 7;
    const page = await readModel.listEntries({ owner: 'alice', currency: 'KES', limit: 5 });
    page.items[0].amount = 2;
    (await readModel.scanBalances({ limit: 5 })).items[0].posted = 3;

    const stored = aliceRows().flatMap((row) => (row.kind === 'balance' ? [row.balance] : []));
    expect(await readModel.listAccounts('alice')).toStrictEqual(stored);
    expect(
      (await readModel.listEntries({ owner: 'alice', currency: 'KES', limit: 5 })).items[0].amount,
    ).toBe(40);
  });

  it('shares one storage between read models: one closed (a crashed process) loses nothing', async () => {
    const storage = new MemoryAccountReadModelStorage();
    const crashed = new MemoryAccountReadModel(storage);
    const survivor = new MemoryAccountReadModel(storage);
    await crashed.beginRebuild();
    await crashed.commit({ rows: aliceRows(), checkpoint: 2n });

    await crashed.close();

    await expect(crashed.checkpoint()).rejects.toThrow(/closed/);
    expect(await survivor.checkpoint()).toBe(2n);
    expect((await survivor.findAccount('alice', 'KES'))?.posted).toBe(40);
    // The rebuild the closed one began is in the storage: another goes on with it.
    await survivor.commitRebuild({ rows: aliceRows(), checkpoint: 2n });
    expect(await survivor.finishRebuild()).toStrictEqual({ swapped: true, checkpoint: 2n });
  });

  it('refuses rebuild work when no rebuild has begun, and swaps nothing in', async () => {
    const readModel = new MemoryAccountReadModel(new MemoryAccountReadModelStorage());
    await readModel.commit({ rows: [], checkpoint: 4n });

    await expect(readModel.loadRebuildBalances(['account-x'])).rejects.toThrow(/no rebuild/);
    await expect(readModel.commitRebuild({ rows: [], checkpoint: 9n })).rejects.toThrow(
      /no rebuild/,
    );
    expect(await readModel.finishRebuild()).toStrictEqual({
      swapped: false,
      rebuildCheckpoint: null,
      liveCheckpoint: 4n,
    });
  });
});
