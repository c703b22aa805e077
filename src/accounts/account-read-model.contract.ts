import {
  deposited,
  held,
  opened,
  posted,
  recordedAccountEvents,
} from '../../test/support/account-history';
import type { RecordedEvent } from '../event-store/event-store.port';
import { projectAccountRows } from './account-balances.projection';
import { accountStreamName } from './account-id';
import type {
  AccountBalance,
  AccountReadModel,
  AccountReadModelRow,
} from './account-read-model.port';

/** One store opened by a harness. */
export interface OpenedAccountReadModel {
  readModel: AccountReadModel;
  /** Opens the same store again with a new connection; called after `readModel` is closed. */
  reopen(): Promise<AccountReadModel>;
}

/** What an adapter's spec provides so that the contract exercises it through the port only. */
export interface AccountReadModelHarness {
  /** A new, empty store. The contract closes everything it opened after each test. */
  openEmpty(): Promise<OpenedAccountReadModel>;
}

const ALICE_KES = accountStreamName('alice', 'KES');

/** Real rows: events folded by the projection, so the stored shape is the one it writes. */
function rowsOf(events: RecordedEvent[], before = new Map<string, AccountReadModelRow>()) {
  return [...projectAccountRows(events, before).values()];
}

function balanceIn(rows: AccountReadModelRow[], streamName: string): AccountBalance {
  const row = rows.find((r) => r.kind === 'balance' && r.balance.streamName === streamName);
  if (row?.kind !== 'balance') throw new Error(`no balance for ${streamName}`);
  return row.balance;
}

/** alice: KES opened, three deposits, a hold posted; USD one deposit. bob: KES one deposit. */
function ledger() {
  const aliceKes = recordedAccountEvents('alice', 'KES', [
    opened('alice', 'KES'),
    deposited('d-1', 100),
    deposited('d-2', 200),
    deposited('d-3', 300),
    held('h-1', 50),
    posted('h-1', 50),
  ]);
  const aliceUsd = recordedAccountEvents(
    'alice',
    'USD',
    [opened('alice', 'USD'), deposited('u-1', 70)],
    { firstPosition: 100n },
  );
  const bobKes = recordedAccountEvents('bob', 'KES', [opened('bob', 'KES'), deposited('b-1', 9)], {
    firstPosition: 200n,
  });
  return { aliceKes, aliceUsd, bobKes, all: [...aliceKes, ...aliceUsd, ...bobKes] };
}

export function describeAccountReadModelContract(
  adapter: string,
  harness: AccountReadModelHarness,
): void {
  describe(`AccountReadModel contract (${adapter})`, () => {
    let opened: OpenedAccountReadModel;
    let readModel: AccountReadModel;
    const toClose: AccountReadModel[] = [];

    beforeEach(async () => {
      opened = await harness.openEmpty();
      readModel = opened.readModel;
      toClose.push(readModel);
    });

    afterEach(async () => {
      for (const model of toClose.splice(0)) await model.close();
    });

    it('is empty at first: no checkpoint, no accounts, no entries, no currencies', async () => {
      expect(await readModel.checkpoint()).toBeNull();
      expect(await readModel.listAccounts('alice')).toEqual([]);
      expect(await readModel.findAccount('alice', 'KES')).toBeNull();
      expect(await readModel.listEntries({ owner: 'alice', currency: 'KES', limit: 5 })).toEqual({
        items: [],
        nextBefore: null,
      });
      expect(await readModel.currencyBalances()).toEqual([]);
      expect(await readModel.scanBalances({ limit: 5 })).toEqual({ items: [], nextAfter: null });
      expect(await readModel.loadBalances([ALICE_KES])).toEqual(new Map());
    });

    it('stores rows with their checkpoint, and reads them back exactly, after a reopen too', async () => {
      const { all } = ledger();
      const rows = rowsOf(all);
      await readModel.commit({ rows, checkpoint: 250n });
      const expected = balanceIn(rows, ALICE_KES);
      expect(await readModel.checkpoint()).toBe(250n);
      expect((await readModel.loadBalances([ALICE_KES, 'account-none'])).get(ALICE_KES)).toEqual(
        expected,
      );
      expect(await readModel.findAccount('alice', 'KES')).toEqual(expected);
      await readModel.close();
      readModel = await opened.reopen();
      toClose.push(readModel);
      expect(await readModel.checkpoint()).toBe(250n);
      expect(await readModel.findAccount('alice', 'KES')).toEqual(expected);
    });

    it("lists an owner's accounts by currency, and no one else's", async () => {
      await readModel.commit({ rows: rowsOf(ledger().all), checkpoint: 250n });
      const accounts = await readModel.listAccounts('alice');
      expect(accounts.map(({ currency, posted: p }) => [currency, p])).toEqual([
        ['KES', 550],
        ['USD', 70],
      ]);
      expect((await readModel.listAccounts('bob')).map(({ owner }) => owner)).toEqual(['bob']);
    });

    it('pages entries newest first by revision, only of the account asked for', async () => {
      await readModel.commit({ rows: rowsOf(ledger().all), checkpoint: 250n });
      const query = { owner: 'alice', currency: 'KES', limit: 2 };
      const first = await readModel.listEntries(query);
      expect(first.items.map(({ revision }) => revision)).toEqual([5n, 4n]);
      expect(first.nextBefore).toBe(4n);
      const second = await readModel.listEntries({ ...query, before: first.nextBefore! });
      expect(second.items.map(({ revision }) => revision)).toEqual([3n, 2n]);
      const last = await readModel.listEntries({ ...query, before: second.nextBefore! });
      expect(last.items.map(({ revision }) => revision)).toEqual([1n]);
      expect(last.nextBefore).toBeNull();
      const exact = await readModel.listEntries({ ...query, limit: 5 });
      expect(exact.nextBefore).toBeNull();
      expect(exact.items[0]).toEqual(
        expect.objectContaining({ kind: 'hold_posted', amount: -50, transactionId: 'h-1' }),
      );
      expect(exact.items.every(({ streamName }) => streamName === ALICE_KES)).toBe(true);
    });

    it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p (RangeError)', async (limit) => {
      await expect(readModel.listEntries({ owner: 'a', currency: 'KES', limit })).rejects.toThrow(
        RangeError,
      );
      await expect(readModel.scanBalances({ limit })).rejects.toThrow(RangeError);
    });

    it('never moves backwards: an older balance, a rewritten entry and a lower checkpoint are ignored', async () => {
      const { aliceKes } = ledger();
      const early = rowsOf(aliceKes.slice(0, 3));
      const late = rowsOf(aliceKes);
      await readModel.commit({ rows: late, checkpoint: 6n });
      const changedEntry = early.map((row) =>
        row.kind === 'entry' ? { ...row, entry: { ...row.entry, amount: 1 } } : row,
      );
      await readModel.commit({ rows: changedEntry, checkpoint: 3n });
      expect(await readModel.checkpoint()).toBe(6n);
      expect(await readModel.findAccount('alice', 'KES')).toEqual(balanceIn(late, ALICE_KES));
      const entries = await readModel.listEntries({ owner: 'alice', currency: 'KES', limit: 10 });
      expect(entries.items.map(({ amount }) => amount)).toEqual([-50, -50, 300, 200, 100]);
    });

    it('scans every account in stream-name order, a page at a time', async () => {
      await readModel.commit({ rows: rowsOf(ledger().all), checkpoint: 250n });
      const names: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await readModel.scanBalances({ after, limit: 2 });
        names.push(...page.items.map(({ streamName }) => streamName));
        if (page.nextAfter === null) break;
        after = page.nextAfter;
      }
      expect(names).toHaveLength(3);
      expect(names).toEqual([...names].sort());
    });

    it('sums every currency: customers, funding and clearing, which add up to zero', async () => {
      await readModel.commit({ rows: rowsOf(ledger().all), checkpoint: 250n });
      expect(await readModel.currencyBalances()).toEqual([
        {
          currency: 'KES',
          customers: { posted: 559, pending: 0 },
          funding: { posted: -609, pending: 0 },
          clearing: { posted: 50, pending: 0 },
        },
        {
          currency: 'USD',
          customers: { posted: 70, pending: 0 },
          funding: { posted: -70, pending: 0 },
          clearing: { posted: 0, pending: 0 },
        },
      ]);
      // A hold still held shows as pending legs.
      const { aliceKes } = ledger();
      const fresh = await harness.openEmpty();
      toClose.push(fresh.readModel);
      await fresh.readModel.commit({ rows: rowsOf(aliceKes.slice(0, 5)), checkpoint: 5n });
      expect(await fresh.readModel.currencyBalances()).toEqual([
        {
          currency: 'KES',
          customers: { posted: 600, pending: -50 },
          funding: { posted: -600, pending: 0 },
          clearing: { posted: 0, pending: 50 },
        },
      ]);
    });

    describe('rebuild', () => {
      it('fills a copy that queries do not see, and swaps it in with its checkpoint', async () => {
        const { all, aliceKes } = ledger();
        await readModel.commit({ rows: rowsOf(aliceKes.slice(0, 2)), checkpoint: 2n });
        await readModel.beginRebuild();
        expect(await readModel.loadRebuildBalances([ALICE_KES])).toEqual(new Map());
        const rows = rowsOf(all);
        await readModel.commitRebuild({ rows, checkpoint: 250n });
        expect(await readModel.loadRebuildBalances([ALICE_KES])).toEqual(
          new Map([[ALICE_KES, balanceIn(rows, ALICE_KES)]]),
        );
        expect(await readModel.checkpoint()).toBe(2n);
        expect((await readModel.findAccount('alice', 'KES'))?.revision).toBe(1n);

        expect(await readModel.finishRebuild()).toEqual({ swapped: true, checkpoint: 250n });
        expect(await readModel.checkpoint()).toBe(250n);
        expect(await readModel.findAccount('alice', 'KES')).toEqual(balanceIn(rows, ALICE_KES));
        expect(
          (await readModel.listEntries({ owner: 'alice', currency: 'KES', limit: 10 })).items,
        ).toHaveLength(5);
        // Live commits go on into the swapped-in copy.
        await readModel.commit({ rows: [], checkpoint: 260n });
        expect(await readModel.checkpoint()).toBe(260n);
      });

      it('does not swap a copy that is behind the live projection', async () => {
        const { all } = ledger();
        await readModel.commit({ rows: rowsOf(all), checkpoint: 250n });
        await readModel.beginRebuild();
        await readModel.commitRebuild({ rows: [], checkpoint: 10n });
        expect(await readModel.finishRebuild()).toEqual({
          swapped: false,
          rebuildCheckpoint: 10n,
          liveCheckpoint: 250n,
        });
        expect(await readModel.listAccounts('alice')).toHaveLength(2);
      });

      it('an abandoned copy leaves the live one as it was; a new rebuild starts empty', async () => {
        const { all } = ledger();
        await readModel.commit({ rows: rowsOf(all), checkpoint: 250n });
        await readModel.beginRebuild();
        await readModel.commitRebuild({ rows: rowsOf(all), checkpoint: 250n });
        await readModel.abandonRebuild();
        expect(await readModel.listAccounts('alice')).toHaveLength(2);
        await readModel.beginRebuild();
        expect(await readModel.loadRebuildBalances([ALICE_KES])).toEqual(new Map());
        await readModel.beginRebuild();
        expect(await readModel.loadRebuildBalances([ALICE_KES])).toEqual(new Map());
        await readModel.commitRebuild({ rows: [], checkpoint: 300n });
        expect(await readModel.finishRebuild()).toEqual({ swapped: true, checkpoint: 300n });
        expect(await readModel.listAccounts('alice')).toEqual([]);
      });
    });
  });
}
