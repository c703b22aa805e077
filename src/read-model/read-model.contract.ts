import {
  decide,
  fold,
  initialState,
  TransactionState,
  TransactionStatus,
} from '../transactions/transaction.decider';
import { ReadModel, SummaryPage, TransactionSummary } from './read-model.port';

/** One store opened by a harness. */
export interface OpenedReadModel {
  readModel: ReadModel;
  /** Opens the same store again with a new connection; called after `readModel` is closed. */
  reopen(): Promise<ReadModel>;
}

/** What an adapter's spec provides so that the contract can exercise it through the port only. */
export interface ReadModelHarness {
  /** Opens a new, empty store. The contract closes everything it opened after each test. */
  openEmpty(): Promise<OpenedReadModel>;
}

/** Beyond 2^53: a position that went through a JS number would come back different. */
const BEYOND_SAFE_INTEGER = 2n ** 53n + 5n;

function summary(
  owner: string,
  clientId: string,
  requestedPosition: bigint,
  options: { status?: TransactionStatus; revision?: bigint; note?: string | null } = {},
): TransactionSummary {
  const { status = 'PENDING', revision = 0n, note = null } = options;
  return {
    streamName: `transaction-${owner}-${clientId}`,
    owner,
    clientId,
    status,
    requestedPosition,
    revision,
    state: requestedState(owner, clientId, note),
  };
}

/** A real state from the decider, so the stored JSON has the shape projections write. */
function requestedState(owner: string, clientId: string, note: string | null): TransactionState {
  const requested = decide(
    {
      type: 'RequestTransaction',
      transactionId: `id-${owner}-${clientId}`,
      owner,
      clientId,
      request: { amount: 12_345, currency: 'EUR', recipient: 'Zoë Ødegård 💸', note },
      requestedAt: '2025-01-02T03:04:05.678Z',
    },
    initialState,
  );
  return fold(requested);
}

function streamNames(page: SummaryPage): string[] {
  return page.items.map((item) => item.streamName);
}

export function describeReadModelContract(adapterName: string, harness: ReadModelHarness): void {
  describe(`ReadModel contract: ${adapterName}`, () => {
    let openModels: ReadModel[] = [];

    async function open(): Promise<OpenedReadModel> {
      const opened = await harness.openEmpty();
      openModels.push(opened.readModel);
      return opened;
    }

    async function openEmpty(): Promise<ReadModel> {
      return (await open()).readModel;
    }

    async function closeAndReopen(opened: OpenedReadModel): Promise<ReadModel> {
      await opened.readModel.close();
      openModels = openModels.filter((model) => model !== opened.readModel);
      const reopened = await opened.reopen();
      openModels.push(reopened);
      return reopened;
    }

    afterEach(async () => {
      await Promise.all(openModels.map((model) => model.close()));
      openModels = [];
    });

    describe('checkpoints', () => {
      it('has no checkpoint for a projection that never committed', async () => {
        const readModel = await openEmpty();
        expect(await readModel.checkpoint('transaction-summaries')).toBeNull();
      });

      it('commits summaries and the checkpoint together', async () => {
        const readModel = await openEmpty();
        const alice = summary('alice', 'c1', 7n);

        await readModel.commit('transaction-summaries', { summaries: [alice], checkpoint: 9n });

        expect(await readModel.checkpoint('transaction-summaries')).toBe(9n);
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(alice);
      });

      it('moves the checkpoint on a commit without summaries', async () => {
        const readModel = await openEmpty();
        await readModel.commit('transaction-summaries', { summaries: [], checkpoint: 3n });
        await readModel.commit('transaction-summaries', { summaries: [], checkpoint: 8n });
        expect(await readModel.checkpoint('transaction-summaries')).toBe(8n);
      });

      it('keeps a separate checkpoint per projection', async () => {
        const readModel = await openEmpty();
        await readModel.commit('projection-a', { summaries: [], checkpoint: 10n });
        await readModel.commit('projection-b', { summaries: [], checkpoint: 20n });
        await readModel.commit('projection-a', { summaries: [], checkpoint: 11n });

        expect(await readModel.checkpoint('projection-a')).toBe(11n);
        expect(await readModel.checkpoint('projection-b')).toBe(20n);
        expect(await readModel.checkpoint('projection-c')).toBeNull();
      });
    });

    describe('summaries', () => {
      it('replaces the summary of a stream on upsert', async () => {
        const readModel = await openEmpty();
        const requested = summary('alice', 'c1', 5n, { revision: 0n });
        const succeeded = summary('alice', 'c1', 5n, { status: 'SUCCEEDED', revision: 3n });
        await readModel.commit('p', { summaries: [requested], checkpoint: 5n });

        await readModel.commit('p', { summaries: [succeeded], checkpoint: 9n });

        const loaded = await readModel.loadSummaries([requested.streamName]);
        expect([...loaded.values()]).toStrictEqual([succeeded]);
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(succeeded);
      });

      it('loads only the summaries that exist, keyed by stream name', async () => {
        const readModel = await openEmpty();
        const first = summary('alice', 'c1', 1n);
        const second = summary('bob', 'c2', 2n, { status: 'FAILED', note: 'rent' });
        await readModel.commit('p', {
          summaries: [first, second, summary('carol', 'c3', 3n)],
          checkpoint: 3n,
        });

        const loaded = await readModel.loadSummaries([
          second.streamName,
          'transaction-missing',
          first.streamName,
        ]);

        expect(loaded).toStrictEqual(
          new Map([
            [second.streamName, second],
            [first.streamName, first],
          ]),
        );
      });

      it('loads nothing for no stream names', async () => {
        const readModel = await openEmpty();
        await readModel.commit('p', { summaries: [summary('alice', 'c1', 1n)], checkpoint: 1n });
        expect((await readModel.loadSummaries([])).size).toBe(0);
      });

      it('keeps positions and revisions as exact bigints beyond 2^53', async () => {
        const readModel = await openEmpty();
        const far = summary('alice', 'c1', BEYOND_SAFE_INTEGER, {
          revision: BEYOND_SAFE_INTEGER + 1n,
        });

        await readModel.commit('p', { summaries: [far], checkpoint: BEYOND_SAFE_INTEGER + 2n });

        const loaded = (await readModel.loadSummaries([far.streamName])).get(far.streamName);
        expect(typeof loaded?.requestedPosition).toBe('bigint');
        expect(loaded?.requestedPosition).toBe(BEYOND_SAFE_INTEGER);
        expect(loaded?.revision).toBe(BEYOND_SAFE_INTEGER + 1n);
        expect(await readModel.checkpoint('p')).toBe(BEYOND_SAFE_INTEGER + 2n);
      });

      it('round-trips the state deep-equal, nulls and non-ASCII text included', async () => {
        const readModel = await openEmpty();
        const withoutNote = summary('alice', 'c1', 1n, { note: null });
        const withNote = summary('alice', 'c2', 2n, { note: 'für Miete — 房租 🏠' });
        await readModel.commit('p', { summaries: [withoutNote, withNote], checkpoint: 2n });

        const loaded = await readModel.loadSummaries([withoutNote.streamName, withNote.streamName]);

        expect(loaded.get(withoutNote.streamName)?.state).toStrictEqual(withoutNote.state);
        expect(loaded.get(withNote.streamName)?.state).toStrictEqual(withNote.state);
      });
    });

    describe('findSummary', () => {
      it("finds only the owner's transaction when two owners use the same client id", async () => {
        const readModel = await openEmpty();
        const alices = summary('alice', 'same-id', 1n);
        const bobs = summary('bob', 'same-id', 2n, { status: 'SUCCEEDED' });
        await readModel.commit('p', { summaries: [alices, bobs], checkpoint: 2n });

        expect(await readModel.findSummary('alice', 'same-id')).toStrictEqual(alices);
        expect(await readModel.findSummary('bob', 'same-id')).toStrictEqual(bobs);
        expect(await readModel.findSummary('carol', 'same-id')).toBeNull();
        expect(await readModel.findSummary('alice', 'other-id')).toBeNull();
      });
    });

    describe('listSummaries', () => {
      /** Alice's transactions at positions 1..count, cycling through the statuses. */
      async function storeAlicesTransactions(readModel: ReadModel, count: number) {
        const statuses: TransactionStatus[] = ['PENDING', 'SUCCEEDED', 'FAILED'];
        const alices = Array.from({ length: count }, (_, i) =>
          summary('alice', `c${i + 1}`, BigInt(i + 1), { status: statuses[i % statuses.length] }),
        );
        // Stored out of order, interleaved with another owner's: order must come from the query.
        const bobs = alices.map((s) => summary('bob', s.clientId, s.requestedPosition + 100n));
        await readModel.commit('p', {
          summaries: [...alices].reverse().flatMap((s, i) => [s, bobs[i]]),
          checkpoint: 1_000n,
        });
        return alices;
      }

      async function walkAllPages(
        readModel: ReadModel,
        query: { owner: string; status?: string; limit: number },
      ): Promise<SummaryPage[]> {
        const pages = [await readModel.listSummaries(query)];
        for (let before = pages[0].nextBefore; before !== null;) {
          const page = await readModel.listSummaries({ ...query, before });
          // A cursor that fails to move down would loop forever instead of failing the test.
          if (page.nextBefore !== null && page.nextBefore >= before) {
            throw new Error(`cursor ${page.nextBefore} does not move past ${before}`);
          }
          pages.push(page);
          before = page.nextBefore;
        }
        return pages;
      }

      it("lists only the owner's transactions, newest first", async () => {
        const readModel = await openEmpty();
        const alices = await storeAlicesTransactions(readModel, 5);

        const page = await readModel.listSummaries({ owner: 'alice', limit: 10 });

        expect(page.items).toStrictEqual([...alices].reverse());
        expect(page.nextBefore).toBeNull();
      });

      it('lists nothing for an owner without transactions', async () => {
        const readModel = await openEmpty();
        await storeAlicesTransactions(readModel, 2);
        expect(await readModel.listSummaries({ owner: 'carol', limit: 10 })).toStrictEqual({
          items: [],
          nextBefore: null,
        });
      });

      it('filters by status', async () => {
        const readModel = await openEmpty();
        await storeAlicesTransactions(readModel, 7);

        const page = await readModel.listSummaries({
          owner: 'alice',
          status: 'SUCCEEDED',
          limit: 10,
        });

        expect(streamNames(page)).toStrictEqual(['transaction-alice-c5', 'transaction-alice-c2']);
        expect(page.nextBefore).toBeNull();
      });

      it('returns at most limit items and a cursor at the last one when more follow', async () => {
        const readModel = await openEmpty();
        await storeAlicesTransactions(readModel, 5);

        const page = await readModel.listSummaries({ owner: 'alice', limit: 2 });

        expect(streamNames(page)).toStrictEqual(['transaction-alice-c5', 'transaction-alice-c4']);
        expect(page.nextBefore).toBe(4n);
      });

      it('returns as many items as the limit asks, with no cap of its own', async () => {
        const readModel = await openEmpty();
        await storeAlicesTransactions(readModel, 1_001);

        const page = await readModel.listSummaries({ owner: 'alice', limit: 1_001 });

        expect(page.items).toHaveLength(1_001);
        expect(page.nextBefore).toBeNull();
      });

      it('treats the cursor as an exclusive upper bound', async () => {
        const readModel = await openEmpty();
        await storeAlicesTransactions(readModel, 5);

        const page = await readModel.listSummaries({ owner: 'alice', before: 4n, limit: 2 });

        expect(streamNames(page)).toStrictEqual(['transaction-alice-c3', 'transaction-alice-c2']);
        expect(page.nextBefore).toBe(2n);
      });

      it('ends with a null cursor when the last page is exactly full', async () => {
        const readModel = await openEmpty();
        await storeAlicesTransactions(readModel, 4);

        const pages = await walkAllPages(readModel, { owner: 'alice', limit: 2 });

        expect(pages.map(streamNames)).toStrictEqual([
          ['transaction-alice-c4', 'transaction-alice-c3'],
          ['transaction-alice-c2', 'transaction-alice-c1'],
        ]);
        expect(pages.map((page) => page.nextBefore)).toStrictEqual([3n, null]);
      });

      it.each([
        { limit: 1, status: undefined },
        { limit: 3, status: undefined },
        { limit: 2, status: 'FAILED' },
      ])(
        'walks every item exactly once, newest first (limit $limit, status $status)',
        async ({ limit, status }) => {
          const readModel = await openEmpty();
          const alices = await storeAlicesTransactions(readModel, 10);
          const expected = alices
            .filter((s) => status === undefined || s.status === status)
            .reverse()
            .map((s) => s.streamName);

          const pages = await walkAllPages(readModel, { owner: 'alice', status, limit });

          expect(pages.flatMap(streamNames)).toStrictEqual(expected);
          expect(pages.every((page) => page.items.length <= limit)).toBe(true);
          expect(pages.at(-1)?.nextBefore).toBeNull();
        },
      );

      it('pages through positions beyond 2^53 without losing one', async () => {
        const readModel = await openEmpty();
        // As JS numbers these collapse onto fewer values: 2^53 + 1 and 2^53 + 3 round away.
        const positions = [1n, 2n, 3n, 4n].map((offset) => 2n ** 53n + offset);
        const alices = positions.map((position, i) => summary('alice', `c${i}`, position));
        await readModel.commit('p', { summaries: alices, checkpoint: positions[3] });

        const pages = await walkAllPages(readModel, { owner: 'alice', limit: 1 });

        expect(pages.flatMap((page) => page.items)).toStrictEqual([...alices].reverse());
        expect(pages.map((page) => page.nextBefore)).toStrictEqual([
          positions[3],
          positions[2],
          positions[1],
          null,
        ]);
      });

      it.each([0, -1, 1.5])('rejects limit %p instead of silently choosing one', async (limit) => {
        const readModel = await openEmpty();
        await storeAlicesTransactions(readModel, 2);
        await expect(readModel.listSummaries({ owner: 'alice', limit })).rejects.toThrow(
          RangeError,
        );
      });
    });

    describe('atomicity', () => {
      it("rejects a commit claiming another stream's owner and client id, changing nothing", async () => {
        const readModel = await openEmpty();
        const original = summary('alice', 'c1', 1n);
        await readModel.commit('p', { summaries: [original], checkpoint: 1n });
        const unrelated = summary('bob', 'c2', 2n);
        // (owner, clientId) identifies one stream; a second stream claiming it cannot be stored.
        const impostor = { ...summary('alice', 'c1', 3n), streamName: 'transaction-impostor' };

        await expect(
          readModel.commit('p', { summaries: [unrelated, impostor], checkpoint: 3n }),
        ).rejects.toThrow();

        expect(await readModel.checkpoint('p')).toBe(1n);
        const loaded = await readModel.loadSummaries([
          original.streamName,
          unrelated.streamName,
          impostor.streamName,
        ]);
        expect(loaded).toStrictEqual(new Map([[original.streamName, original]]));
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(original);
      });
    });

    describe('fixed fields', () => {
      it.each([
        { field: 'owner', change: { owner: 'mallory' } },
        { field: 'clientId', change: { clientId: 'c9' } },
        { field: 'requestedPosition', change: { requestedPosition: 99n } },
      ])('rejects a summary that changes its $field, changing nothing', async ({ change }) => {
        const readModel = await openEmpty();
        const original = summary('alice', 'c1', 1n);
        await readModel.commit('p', { summaries: [original], checkpoint: 1n });
        const unrelated = summary('bob', 'c2', 2n);

        await expect(
          readModel.commit('p', {
            summaries: [unrelated, { ...original, ...change, revision: 1n }],
            checkpoint: 3n,
          }),
        ).rejects.toThrow();

        expect(await readModel.checkpoint('p')).toBe(1n);
        const loaded = await readModel.loadSummaries([original.streamName, unrelated.streamName]);
        expect(loaded).toStrictEqual(new Map([[original.streamName, original]]));
      });
    });

    describe('lifecycle', () => {
      it('keeps summaries and checkpoints across close and reopen', async () => {
        const opened = await open();
        const alice = summary('alice', 'c1', BEYOND_SAFE_INTEGER, { status: 'SUCCEEDED' });
        await opened.readModel.commit('p', { summaries: [alice], checkpoint: 42n });

        const reopened = await closeAndReopen(opened);

        expect(await reopened.checkpoint('p')).toBe(42n);
        expect(await reopened.findSummary('alice', 'c1')).toStrictEqual(alice);
        expect(await reopened.listSummaries({ owner: 'alice', limit: 10 })).toStrictEqual({
          items: [alice],
          nextBefore: null,
        });
      });

      it('answers ping while open', async () => {
        const readModel = await openEmpty();
        await expect(readModel.ping()).resolves.toBeUndefined();
      });
    });
  });
}
