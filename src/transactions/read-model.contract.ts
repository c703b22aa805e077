import { decide } from './transaction.decider';
import { StatusSource, TransactionEvent, TransactionStatus } from './transaction.events';
import { fold, initialState, TransactionState } from './transaction.state';
import {
  ReadModel,
  ReconciliationQueuePage,
  ReconciliationQueueQuery,
  SearchSummariesQuery,
  SummaryPage,
  TransactionSummary,
} from './read-model.port';

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

const T0 = '2025-03-01T10:00:00.000Z';

/** T0 plus some milliseconds, as the ISO string the decider would hold. */
function after(ms: number, base = T0): string {
  return new Date(Date.parse(base) + ms).toISOString();
}

/** A transaction requested at `requestedAt`, then taken through `events`, as projections store it. */
function transactionAt(
  owner: string,
  clientId: string,
  requestedPosition: bigint,
  requestedAt: string,
  events: TransactionEvent[] = [],
): TransactionSummary {
  const requested = decide(
    {
      type: 'RequestTransaction',
      transactionId: `id-${owner}-${clientId}`,
      owner,
      clientId,
      request: { amount: 500, currency: 'KES', recipient: 'bob', note: null },
      requestedAt,
    },
    initialState,
  );
  const state = fold([...requested, ...events]);
  if (!state.exists) throw new Error('the request did not create the transaction');
  return {
    streamName: `transaction-${owner}-${clientId}`,
    owner,
    clientId,
    status: state.status,
    requestedPosition,
    revision: BigInt(events.length),
    state,
  };
}

const submitted = (at: string): TransactionEvent => ({
  type: 'ProviderSubmissionStarted',
  data: { attempt: 1, startedAt: at },
});

const resubmitted = (at: string): TransactionEvent[] => [
  { type: 'ProviderAttemptLost', data: { attempt: 1, at } },
  { type: 'ProviderSubmissionStarted', data: { attempt: 2, startedAt: at } },
];

const checked = (checkNumber: number, at: string): TransactionEvent => ({
  type: 'StatusChecked',
  data: { attempt: 1, checkNumber, result: 'pending', at },
});

const confirmed = (
  status: 'SUCCEEDED' | 'FAILED',
  source: StatusSource,
  at: string,
): TransactionEvent => ({
  type: 'StatusConfirmed',
  data: {
    status,
    source,
    providerStatus: status === 'SUCCEEDED' ? 'completed' : 'declined',
    reason: null,
    at,
  },
});

const contradicted = (at: string): TransactionEvent[] => [
  {
    type: 'ConflictingStatusReported',
    data: { reported: 'declined', source: 'webhook', confirmed: 'SUCCEEDED', at },
  },
  { type: 'ReconciliationRequired', data: { reason: 'conflicting_reports', at } },
];

const deadlineExceeded = (at: string): TransactionEvent => ({
  type: 'ReconciliationRequired',
  data: { reason: 'deadline_exceeded', at },
});

const resolved = (at: string): TransactionEvent => ({
  type: 'ResolvedBySupport',
  data: {
    status: 'FAILED',
    previousStatus: 'SUCCEEDED',
    reconciliation: 'conflicting_reports',
    note: 'provider confirmed the decline',
    providerStatus: 'declined',
    at,
  },
});

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

      it('never moves a checkpoint backwards', async () => {
        const readModel = await openEmpty();
        await readModel.commit('transaction-summaries', { summaries: [], checkpoint: 8n });
        await readModel.commit('transaction-summaries', { summaries: [], checkpoint: 3n });
        expect(await readModel.checkpoint('transaction-summaries')).toBe(8n);
      });
    });

    describe('rebuild beside the live copy', () => {
      const PROJECTION = 'transaction-summaries';

      it('leaves the live copy and checkpoint untouched until finishRebuild swaps the copy in', async () => {
        const readModel = await openEmpty();
        const stale = summary('alice', 'c1', 1n);
        const onlyLive = summary('carol', 'c3', 2n);
        await readModel.commit(PROJECTION, { summaries: [stale, onlyLive], checkpoint: 2n });
        const rebuilt = summary('alice', 'c1', 1n, { status: 'SUCCEEDED', revision: 2n });
        const added = summary('bob', 'c2', 4n);

        await readModel.beginRebuild(PROJECTION);
        await readModel.commitRebuild(PROJECTION, { summaries: [rebuilt], checkpoint: 3n });
        await readModel.commitRebuild(PROJECTION, { summaries: [added], checkpoint: 4n });

        expect(await readModel.checkpoint(PROJECTION)).toBe(2n);
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(stale);
        expect(await readModel.findSummary('bob', 'c2')).toBeNull();
        expect(
          await readModel.loadRebuildSummaries(PROJECTION, [rebuilt.streamName]),
        ).toStrictEqual(new Map([[rebuilt.streamName, rebuilt]]));

        expect(await readModel.finishRebuild(PROJECTION)).toStrictEqual({
          swapped: true,
          checkpoint: 4n,
        });

        expect(await readModel.checkpoint(PROJECTION)).toBe(4n);
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(rebuilt);
        expect(await readModel.findSummary('bob', 'c2')).toStrictEqual(added);
        expect(await readModel.findSummary('carol', 'c3')).toBeNull();
        expect(await readModel.searchSummaries({ limit: 10 })).toStrictEqual({
          items: [added, rebuilt],
          nextBefore: null,
        });
      });

      it('refuses to swap in a copy behind the live checkpoint, changing nothing', async () => {
        const readModel = await openEmpty();
        const live = summary('alice', 'c1', 1n, { revision: 1n });
        await readModel.commit(PROJECTION, { summaries: [live], checkpoint: 6n });
        await readModel.beginRebuild(PROJECTION);
        await readModel.commitRebuild(PROJECTION, {
          summaries: [summary('alice', 'c1', 1n)],
          checkpoint: 5n,
        });

        expect(await readModel.finishRebuild(PROJECTION)).toStrictEqual({
          swapped: false,
          rebuildCheckpoint: 5n,
          liveCheckpoint: 6n,
        });
        expect(await readModel.checkpoint(PROJECTION)).toBe(6n);
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(live);

        // Caught up further, the same rebuild swaps in.
        await readModel.commitRebuild(PROJECTION, { summaries: [live], checkpoint: 6n });
        expect(await readModel.finishRebuild(PROJECTION)).toStrictEqual({
          swapped: true,
          checkpoint: 6n,
        });
      });

      it('keeps a swapped-in copy when a live projection that was behind commits older work', async () => {
        const readModel = await openEmpty();
        const requested = summary('alice', 'c1', 1n);
        await readModel.commit(PROJECTION, { summaries: [requested], checkpoint: 1n });
        const final = summary('alice', 'c1', 1n, { status: 'SUCCEEDED', revision: 3n });
        await readModel.beginRebuild(PROJECTION);
        await readModel.commitRebuild(PROJECTION, { summaries: [final], checkpoint: 9n });
        await readModel.finishRebuild(PROJECTION);

        // The live runner computed revision 1 from the old copy before the swap.
        const older = summary('alice', 'c1', 1n, { status: 'PENDING', revision: 1n });
        await readModel.commit(PROJECTION, { summaries: [older], checkpoint: 4n });

        expect(await readModel.checkpoint(PROJECTION)).toBe(9n);
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(final);
      });

      it('starts every rebuild empty, discarding an unfinished one', async () => {
        const readModel = await openEmpty();
        const leftover = summary('alice', 'c1', 1n);
        await readModel.beginRebuild(PROJECTION);
        await readModel.commitRebuild(PROJECTION, { summaries: [leftover], checkpoint: 1n });

        await readModel.beginRebuild(PROJECTION);

        expect((await readModel.loadRebuildSummaries(PROJECTION, [leftover.streamName])).size).toBe(
          0,
        );
        expect(await readModel.finishRebuild(PROJECTION)).toMatchObject({
          swapped: false,
          rebuildCheckpoint: null,
        });
      });

      it('abandons a rebuild without touching the live copy', async () => {
        const readModel = await openEmpty();
        const live = summary('alice', 'c1', 1n);
        await readModel.commit(PROJECTION, { summaries: [live], checkpoint: 1n });
        await readModel.beginRebuild(PROJECTION);
        await readModel.commitRebuild(PROJECTION, { summaries: [], checkpoint: 7n });

        await readModel.abandonRebuild(PROJECTION);

        await expect(readModel.finishRebuild(PROJECTION)).rejects.toThrow();
        expect(await readModel.checkpoint(PROJECTION)).toBe(1n);
        expect(await readModel.findSummary('alice', 'c1')).toStrictEqual(live);
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

    describe('findSummaryByTransactionId', () => {
      it('finds a summary by the internal transaction id, whoever owns it', async () => {
        const readModel = await openEmpty();
        const alices = summary('alice', 'same-id', 1n);
        const bobs = summary('bob', 'same-id', 2n, { status: 'SUCCEEDED' });
        await readModel.commit('p', { summaries: [alices, bobs], checkpoint: 2n });

        expect(await readModel.findSummaryByTransactionId('id-bob-same-id')).toStrictEqual(bobs);
        expect(await readModel.findSummaryByTransactionId('id-alice-same-id')).toStrictEqual(
          alices,
        );
        expect(await readModel.findSummaryByTransactionId('id-carol-same-id')).toBeNull();
      });
    });

    describe('searchSummaries', () => {
      /** Six transactions of three owners, one per minute from T0, in different stages. */
      async function storeMixedTransactions(readModel: ReadModel) {
        const minute = 60_000;
        const stored = {
          alicePending: transactionAt('alice', 'a1', 1n, after(0)),
          bobSucceeded: transactionAt('bob', 'b1', 2n, after(minute), [
            submitted(after(minute)),
            confirmed('SUCCEEDED', 'submission', after(minute + 500)),
          ]),
          aliceChecking: transactionAt('alice', 'a2', 3n, after(2 * minute), [
            submitted(after(2 * minute)),
            {
              type: 'StatusCheckScheduled',
              data: { attempt: 1, checkNumber: 1, dueAt: after(3 * minute), reason: 'x' },
            },
          ]),
          carolFailed: transactionAt('carol', 'shared', 4n, after(3 * minute), [
            confirmed('FAILED', 'webhook', after(3 * minute + 2_000)),
          ]),
          aliceConflict: transactionAt('alice', 'shared', 5n, after(4 * minute), [
            confirmed('SUCCEEDED', 'submission', after(4 * minute + 100)),
            ...contradicted(after(4 * minute + 200)),
          ]),
          bobPending: transactionAt('bob', 'b2', 6n, after(5 * minute)),
        };
        // Stored out of order: order must come from the query.
        await readModel.commit('p', {
          summaries: Object.values(stored).reverse(),
          checkpoint: 6n,
        });
        return stored;
      }

      async function search(readModel: ReadModel, query: SearchSummariesQuery) {
        return streamNames(await readModel.searchSummaries(query));
      }

      it('lists every owner, newest first, with no filter', async () => {
        const readModel = await openEmpty();
        const stored = await storeMixedTransactions(readModel);

        const page = await readModel.searchSummaries({ limit: 10 });

        expect(page.items).toStrictEqual(Object.values(stored).reverse());
        expect(page.nextBefore).toBeNull();
      });

      it('filters by status, stage, owner, client id and transaction id', async () => {
        const readModel = await openEmpty();
        await storeMixedTransactions(readModel);

        expect(await search(readModel, { status: 'PENDING', limit: 10 })).toStrictEqual([
          'transaction-bob-b2',
          'transaction-alice-a2',
          'transaction-alice-a1',
        ]);
        expect(await search(readModel, { stage: 'needs_reconciliation', limit: 10 })).toEqual([
          'transaction-alice-shared',
        ]);
        expect(await search(readModel, { stage: 'checking', limit: 10 })).toEqual([
          'transaction-alice-a2',
        ]);
        expect(await search(readModel, { owner: 'bob', limit: 10 })).toStrictEqual([
          'transaction-bob-b2',
          'transaction-bob-b1',
        ]);
        expect(await search(readModel, { clientId: 'shared', limit: 10 })).toStrictEqual([
          'transaction-alice-shared',
          'transaction-carol-shared',
        ]);
        expect(
          await search(readModel, { transactionId: 'id-carol-shared', limit: 10 }),
        ).toStrictEqual(['transaction-carol-shared']);
        expect(await search(readModel, { transactionId: 'id-nobody', limit: 10 })).toEqual([]);
      });

      it('combines filters with AND', async () => {
        const readModel = await openEmpty();
        await storeMixedTransactions(readModel);

        expect(
          await search(readModel, { owner: 'alice', status: 'PENDING', limit: 10 }),
        ).toStrictEqual(['transaction-alice-a2', 'transaction-alice-a1']);
        expect(
          await search(readModel, { owner: 'alice', stage: 'final', limit: 10 }),
        ).toStrictEqual([]);
      });

      it('filters by request time, the lower bound inclusive and the upper exclusive', async () => {
        const readModel = await openEmpty();
        await storeMixedTransactions(readModel);

        expect(
          await search(readModel, {
            requestedFrom: after(60_000),
            requestedTo: after(3 * 60_000),
            limit: 10,
          }),
        ).toStrictEqual(['transaction-alice-a2', 'transaction-bob-b1']);
        expect(await search(readModel, { requestedFrom: after(5 * 60_000), limit: 10 })).toEqual([
          'transaction-bob-b2',
        ]);
        expect(await search(readModel, { requestedTo: after(1), limit: 10 })).toEqual([
          'transaction-alice-a1',
        ]);
      });

      it('follows stage changes made by later commits', async () => {
        const readModel = await openEmpty();
        const requestedAt = after(0);
        await readModel.commit('p', {
          summaries: [transactionAt('alice', 'a1', 1n, requestedAt)],
          checkpoint: 1n,
        });
        await readModel.commit('p', {
          summaries: [transactionAt('alice', 'a1', 1n, requestedAt, [deadlineExceeded(after(1))])],
          checkpoint: 2n,
        });

        expect(await search(readModel, { stage: 'requested', limit: 10 })).toEqual([]);
        expect(await search(readModel, { stage: 'needs_reconciliation', limit: 10 })).toEqual([
          'transaction-alice-a1',
        ]);
      });

      it.each([1, 2, 4])(
        'walks every match exactly once, newest first (limit %p)',
        async (limit) => {
          const readModel = await openEmpty();
          await storeMixedTransactions(readModel);
          const query = { status: 'PENDING', limit };
          const names: string[] = [];
          let page = await readModel.searchSummaries(query);
          names.push(...streamNames(page));
          while (page.nextBefore !== null) {
            const before: bigint = page.nextBefore;
            page = await readModel.searchSummaries({ ...query, before });
            if (page.nextBefore !== null && page.nextBefore >= before) {
              throw new Error(`cursor ${page.nextBefore} does not move past ${before}`);
            }
            names.push(...streamNames(page));
          }

          expect(names).toStrictEqual([
            'transaction-bob-b2',
            'transaction-alice-a2',
            'transaction-alice-a1',
          ]);
        },
      );

      it.each([0, -1, 1.5])('rejects limit %p', async (limit) => {
        const readModel = await openEmpty();
        await expect(readModel.searchSummaries({ limit })).rejects.toThrow(RangeError);
      });
    });

    describe('reconciliationQueue', () => {
      const PENDING_CUTOFF = after(10 * 60_000);

      /** Oldest first by request; which belong in the queue with a 10-minute cutoff is noted. */
      async function storeQueueCandidates(readModel: ReadModel) {
        const stored = [
          // Old and pending, no case: pending too long.
          transactionAt('alice', 'old-pending', 1n, after(0), [submitted(after(1))]),
          // Old but final and healthy: not queued.
          transactionAt('alice', 'old-final', 2n, after(1_000), [
            confirmed('SUCCEEDED', 'webhook', after(2_000)),
          ]),
          // Old, pending and its deadline passed: the case wins over the age.
          transactionAt('bob', 'expired', 3n, after(2_000), [deadlineExceeded(after(3_000))]),
          // A contradicted final status, requested after the cutoff: queued whatever its age.
          transactionAt('bob', 'conflict', 4n, after(11 * 60_000), [
            confirmed('SUCCEEDED', 'submission', after(11 * 60_000 + 1)),
            ...contradicted(after(11 * 60_000 + 2)),
          ]),
          // A resolved case: out of the queue.
          transactionAt('carol', 'resolved', 5n, after(3_000), [
            confirmed('SUCCEEDED', 'submission', after(3_001)),
            ...contradicted(after(3_002)),
            resolved(after(3_003)),
          ]),
          // Requested exactly at the cutoff: not yet too long.
          transactionAt('carol', 'at-cutoff', 6n, PENDING_CUTOFF),
          // Young and pending: not queued.
          transactionAt('carol', 'young', 7n, after(12 * 60_000)),
        ];
        await readModel.commit('p', { summaries: [...stored].reverse(), checkpoint: 7n });
        return stored;
      }

      const reasons = (page: ReconciliationQueuePage) =>
        page.items.map(({ summary: s, reason }) => [s.clientId, reason]);

      it('holds open cases and old pending transactions, oldest first, each with its reason', async () => {
        const readModel = await openEmpty();
        const stored = await storeQueueCandidates(readModel);

        const page = await readModel.reconciliationQueue({
          pendingRequestedBefore: PENDING_CUTOFF,
          limit: 10,
        });

        expect(reasons(page)).toStrictEqual([
          ['old-pending', 'pending_too_long'],
          ['expired', 'needs_reconciliation'],
          ['conflict', 'needs_reconciliation'],
        ]);
        expect(page.items[0].summary).toStrictEqual(stored[0]);
        expect(page.nextAfter).toBeNull();
      });

      it('takes the cutoff from the query: a later one makes more transactions too old', async () => {
        const readModel = await openEmpty();
        await storeQueueCandidates(readModel);

        const page = await readModel.reconciliationQueue({
          pendingRequestedBefore: after(13 * 60_000),
          limit: 10,
        });

        expect(reasons(page)).toStrictEqual([
          ['old-pending', 'pending_too_long'],
          ['expired', 'needs_reconciliation'],
          ['conflict', 'needs_reconciliation'],
          ['at-cutoff', 'pending_too_long'],
          ['young', 'pending_too_long'],
        ]);
      });

      it.each([1, 2])('walks the queue exactly once, oldest first (limit %p)', async (limit) => {
        const readModel = await openEmpty();
        await storeQueueCandidates(readModel);
        const query: ReconciliationQueueQuery = { pendingRequestedBefore: PENDING_CUTOFF, limit };
        const walked: (string | bigint)[][] = [];
        let page = await readModel.reconciliationQueue(query);
        walked.push(...reasons(page));
        while (page.nextAfter !== null) {
          const cursor: bigint = page.nextAfter;
          page = await readModel.reconciliationQueue({ ...query, after: cursor });
          if (page.nextAfter !== null && page.nextAfter <= cursor) {
            throw new Error(`cursor ${page.nextAfter} does not move past ${cursor}`);
          }
          expect(page.items.length).toBeLessThanOrEqual(limit);
          walked.push(...reasons(page));
        }

        expect(walked).toStrictEqual([
          ['old-pending', 'pending_too_long'],
          ['expired', 'needs_reconciliation'],
          ['conflict', 'needs_reconciliation'],
        ]);
      });

      it('is empty when nothing needs attention', async () => {
        const readModel = await openEmpty();
        expect(
          await readModel.reconciliationQueue({ pendingRequestedBefore: T0, limit: 5 }),
        ).toStrictEqual({ items: [], nextAfter: null });
      });

      it.each([
        ['the cutoff', PENDING_CUTOFF, 3],
        ['a later cutoff', after(13 * 60_000), 5],
      ])(
        'counts as many as it lists, a pending transaction with a case once (%s)',
        async (_name, cutoff, size) => {
          const readModel = await openEmpty();
          await storeQueueCandidates(readModel);

          const listed = await readModel.reconciliationQueue({
            pendingRequestedBefore: cutoff,
            limit: 100,
          });

          expect(listed.items).toHaveLength(size);
          expect(await readModel.reconciliationQueueSize(cutoff)).toBe(size);
        },
      );

      it('counts nothing when nothing needs attention', async () => {
        const readModel = await openEmpty();
        expect(await readModel.reconciliationQueueSize(T0)).toBe(0);
      });

      it.each([0, -1, 1.5])('rejects limit %p', async (limit) => {
        const readModel = await openEmpty();
        await expect(
          readModel.reconciliationQueue({ pendingRequestedBefore: T0, limit }),
        ).rejects.toThrow(RangeError);
      });
    });

    describe('summaryStatistics', () => {
      it('reports zeros, every histogram bucket included, for an empty store', async () => {
        const readModel = await openEmpty();

        expect(await readModel.summaryStatistics()).toStrictEqual({
          transactions: 0,
          byStatus: {},
          byStage: {},
          timeToFinal: [1, 5, 15, 60, 300, 900, null].map((belowSeconds) => ({
            belowSeconds,
            count: 0,
          })),
          statusChecks: { total: 0, mean: 0, max: 0 },
          providerAttempts: {},
          finalStatusSources: {},
        });
      });

      it('counts statuses, stages, time to final, status checks, attempts and sources', async () => {
        const readModel = await openEmpty();
        const finalAfter = (clientId: string, position: bigint, ms: number, source: StatusSource) =>
          transactionAt('alice', clientId, position, after(0), [
            submitted(after(0)),
            confirmed('SUCCEEDED', source, after(ms)),
          ]);
        await readModel.commit('p', {
          summaries: [
            finalAfter('f-999ms', 1n, 999, 'submission'),
            // Exactly on a bound: that bucket's upper bound is exclusive.
            finalAfter('f-1s', 2n, 1_000, 'submission'),
            finalAfter('f-14s', 3n, 14_999, 'webhook'),
            finalAfter('f-20m', 4n, 20 * 60_000, 'status_check'),
            transactionAt('bob', 'checked-3', 5n, after(0), [
              submitted(after(0)),
              checked(1, after(1)),
              checked(2, after(2)),
              checked(3, after(3)),
              confirmed('FAILED', 'status_check', after(61_000)),
            ]),
            transactionAt('bob', 'two-attempts', 6n, after(0), [
              submitted(after(0)),
              checked(1, after(1)),
              ...resubmitted(after(2)),
            ]),
            transactionAt('carol', 'waiting', 7n, after(0)),
            transactionAt('carol', 'conflict', 8n, after(0), [
              submitted(after(0)),
              confirmed('SUCCEEDED', 'submission', after(300_000)),
              ...contradicted(after(300_001)),
            ]),
          ],
          checkpoint: 8n,
        });

        expect(await readModel.summaryStatistics()).toStrictEqual({
          transactions: 8,
          byStatus: { PENDING: 2, SUCCEEDED: 5, FAILED: 1 },
          byStage: { final: 5, submitted: 1, requested: 1, needs_reconciliation: 1 },
          timeToFinal: [
            { belowSeconds: 1, count: 1 },
            { belowSeconds: 5, count: 1 },
            { belowSeconds: 15, count: 1 },
            { belowSeconds: 60, count: 0 },
            { belowSeconds: 300, count: 1 },
            { belowSeconds: 900, count: 1 },
            { belowSeconds: null, count: 1 },
          ],
          statusChecks: { total: 4, mean: 0.5, max: 3 },
          providerAttempts: { '0': 1, '1': 6, '2': 1 },
          finalStatusSources: { submission: 3, webhook: 1, status_check: 2 },
        });
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

    describe('cursors from clients', () => {
      it('takes any cursor, even far beyond every stored position, as a bound', async () => {
        const readModel = await openEmpty();
        const alice = summary('alice', 'c1', 7n);
        await readModel.commit('p', { summaries: [alice], checkpoint: 7n });
        const far = 2n ** 100n;

        expect(
          (await readModel.listSummaries({ owner: 'alice', before: far, limit: 5 })).items,
        ).toStrictEqual([alice]);
        expect((await readModel.searchSummaries({ before: far, limit: 5 })).items).toStrictEqual([
          alice,
        ]);
        const queue = await readModel.reconciliationQueue({
          pendingRequestedBefore: '2999-01-01T00:00:00.000Z',
          after: far,
          limit: 5,
        });
        expect(queue.items).toStrictEqual([]);
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
