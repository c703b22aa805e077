import fc from 'fast-check';
import { decide } from '../../transactions/transaction.decider';
import { ExistingTransaction, fold, initialState } from '../../transactions/transaction.state';
import { assertLimit, type TransactionSummary } from '../../transactions/read-model.port';
import { queueReasonOf } from '../reconciliation-queue';
import { MAX_SORTABLE, toSortableString } from '../../mongodb/sortable-bigint';
import {
  listSummariesFilter,
  openCasesFilter,
  pendingTooLongFilter,
  reconciliationQueuePage,
  searchSummariesFilter,
  SUMMARY_INDEXES,
} from './summary-queries';

function requestedTransaction(): ExistingTransaction {
  const state = fold(
    decide(
      {
        type: 'RequestTransaction',
        transactionId: 'id',
        owner: 'alice',
        clientId: 'c',
        request: { amount: 1, currency: 'KES', recipient: 'bob', note: null },
        requestedAt: '2025-03-01T10:00:00.000Z',
      },
      initialState,
    ),
  );
  if (!state.exists) throw new Error('the request did not create the transaction');
  return state;
}

const requested = requestedTransaction();

interface Candidate {
  position: bigint;
  status: 'PENDING' | 'SUCCEEDED';
  reconciliation: 'deadline_exceeded' | null;
  requestedAt: string;
}

function summaryOf({
  position,
  status,
  reconciliation,
  requestedAt,
}: Candidate): TransactionSummary {
  return {
    streamName: `transaction-${position}`,
    owner: 'alice',
    clientId: `c${position}`,
    status,
    requestedPosition: position,
    revision: 0n,
    state: { ...requested, status, reconciliation, requestedAt },
  };
}

const pos = (n: bigint) => toSortableString(n);

describe('assertLimit', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    'refuses %p with a RangeError',
    (limit) => {
      expect(() => assertLimit(limit)).toThrow(RangeError);
    },
  );

  it.each([1, 100, 1_001])('accepts %p, with no cap of its own', (limit) => {
    expect(() => assertLimit(limit)).not.toThrow();
  });
});

describe('listSummariesFilter', () => {
  it("names the owner's documents of one copy", () => {
    expect(listSummariesFilter(2, { owner: 'alice', limit: 5 })).toStrictEqual({
      generation: 2,
      owner: 'alice',
    });
  });

  it('adds the status and the exclusive cursor', () => {
    expect(
      listSummariesFilter(2, { owner: 'alice', status: 'FAILED', before: 4n, limit: 5 }),
    ).toStrictEqual({
      generation: 2,
      owner: 'alice',
      status: 'FAILED',
      requestedPosition: { $lt: pos(4n) },
    });
  });

  it('is null for a cursor below every storable position, and bounded past the largest', () => {
    expect(listSummariesFilter(0, { owner: 'alice', before: 0n, limit: 5 })).toBeNull();
    expect(listSummariesFilter(0, { owner: 'alice', before: 2n ** 200n, limit: 5 })).toStrictEqual({
      generation: 0,
      owner: 'alice',
      requestedPosition: { $lte: toSortableString(MAX_SORTABLE) },
    });
  });
});

describe('searchSummariesFilter', () => {
  it('names the whole copy when no filter is given', () => {
    expect(searchSummariesFilter(1, { limit: 10 })).toStrictEqual({ generation: 1 });
  });

  it('combines every filter given with AND', () => {
    expect(
      searchSummariesFilter(1, {
        status: 'PENDING',
        stage: 'checking',
        owner: 'alice',
        clientId: 'shared',
        transactionId: 'id-1',
        requestedFrom: '2025-03-01T10:00:00.000Z',
        requestedTo: '2025-03-01T11:00:00.000Z',
        before: 9n,
        limit: 10,
      }),
    ).toStrictEqual({
      generation: 1,
      status: 'PENDING',
      stage: 'checking',
      owner: 'alice',
      clientId: 'shared',
      transactionId: 'id-1',
      requestedAt: { $gte: '2025-03-01T10:00:00.000Z', $lt: '2025-03-01T11:00:00.000Z' },
      requestedPosition: { $lt: pos(9n) },
    });
  });

  it('bounds the request time on one side only when only one is given', () => {
    expect(searchSummariesFilter(1, { requestedTo: 'T', limit: 1 })).toStrictEqual({
      generation: 1,
      requestedAt: { $lt: 'T' },
    });
    expect(searchSummariesFilter(1, { requestedFrom: 'F', limit: 1 })).toStrictEqual({
      generation: 1,
      requestedAt: { $gte: 'F' },
    });
  });

  it('is null for a cursor below every storable position', () => {
    expect(searchSummariesFilter(1, { before: -3n, limit: 1 })).toBeNull();
  });
});

describe('reconciliation queue filters', () => {
  it("asks for open cases with the partial index's own condition, so the index applies", () => {
    const openCases = SUMMARY_INDEXES.find((index) => index.name === 'open_cases_oldest_first');
    expect(openCasesFilter(3)).toStrictEqual({
      generation: 3,
      ...openCases?.partialFilterExpression,
    });
  });

  it('asks for pending transactions requested before the cutoff, after the cursor', () => {
    expect(pendingTooLongFilter(3, 'CUTOFF', 7n)).toStrictEqual({
      generation: 3,
      status: 'PENDING',
      requestedAt: { $lt: 'CUTOFF' },
      requestedPosition: { $gt: pos(7n) },
    });
  });

  it('is null once the cursor is past every storable position', () => {
    expect(openCasesFilter(3, MAX_SORTABLE)).toBeNull();
    expect(pendingTooLongFilter(3, 'CUTOFF', MAX_SORTABLE + 1n)).toBeNull();
    expect(openCasesFilter(3, -1n)).toMatchObject({ requestedPosition: { $gte: pos(0n) } });
  });
});

describe('reconciliationQueuePage', () => {
  const cutoff = '2025-03-01T10:10:00.000Z';
  const candidate = fc.record({
    status: fc.constantFrom('PENDING' as const, 'SUCCEEDED' as const),
    reconciliation: fc.constantFrom('deadline_exceeded' as const, null),
    requestedAt: fc.constantFrom('2025-03-01T10:00:00.000Z', cutoff, '2025-03-01T10:20:00.000Z'),
  });

  /** What the two walks return from the server: matches after the cursor, oldest first, limit + 1. */
  function walks(all: TransactionSummary[], after: bigint | undefined, limit: number) {
    const pending = (s: TransactionSummary) =>
      s.status === 'PENDING' && s.state.exists && s.state.requestedAt < cutoff;
    const withCase = (s: TransactionSummary) => s.state.exists && s.state.reconciliation !== null;
    const walk = (matches: (s: TransactionSummary) => boolean) =>
      all
        .filter((s) => matches(s) && (after === undefined || s.requestedPosition > after))
        .sort((a, b) => (a.requestedPosition < b.requestedPosition ? -1 : 1))
        .slice(0, limit + 1);
    return [walk(withCase), walk(pending)] as const;
  }

  it('pages through every queued transaction exactly once, oldest first, with its reason', () => {
    fc.assert(
      fc.property(
        fc.array(candidate, { maxLength: 25 }),
        fc.integer({ min: 1, max: 4 }),
        (traits, limit) => {
          const all = traits.map((t, i) => summaryOf({ ...t, position: BigInt(i * 3 + 1) }));
          const expected = all.flatMap((summary) => {
            const reason = queueReasonOf(summary.state, cutoff);
            return reason ? [[summary.streamName, reason]] : [];
          });

          const walked: string[][] = [];
          let after: bigint | undefined;
          for (let pages = 0; pages <= all.length + 1; pages++) {
            const [withCase, tooOld] = walks(all, after, limit);
            const page = reconciliationQueuePage(withCase, tooOld, {
              pendingRequestedBefore: cutoff,
              limit,
            });
            expect(page.items.length).toBeLessThanOrEqual(limit);
            walked.push(...page.items.map(({ summary, reason }) => [summary.streamName, reason]));
            if (page.nextAfter === null) break;
            after = page.nextAfter;
          }

          expect(walked).toStrictEqual(expected);
        },
      ),
    );
  });

  it('counts a pending transaction with an open case once, for its case', () => {
    const both = summaryOf({
      position: 1n,
      status: 'PENDING',
      reconciliation: 'deadline_exceeded',
      requestedAt: '2025-03-01T10:00:00.000Z',
    });

    const page = reconciliationQueuePage([both], [both], {
      pendingRequestedBefore: cutoff,
      limit: 5,
    });

    expect(page).toStrictEqual({
      items: [{ summary: both, reason: 'needs_reconciliation' }],
      nextAfter: null,
    });
  });
});

describe('SUMMARY_INDEXES', () => {
  const keys = SUMMARY_INDEXES.map((index) => Object.keys(index.key));

  it.each([
    ['listSummaries', ['generation', 'owner', 'requestedPosition']],
    ['listSummaries by status', ['generation', 'owner', 'status', 'requestedPosition']],
    ['searchSummaries unfiltered', ['generation', 'requestedPosition']],
    ['searchSummaries by status', ['generation', 'status', 'requestedPosition']],
    ['searchSummaries by stage', ['generation', 'stage', 'requestedPosition']],
    ['searchSummaries by client id', ['generation', 'clientId', 'requestedPosition']],
    ['findSummary', ['generation', 'owner', 'clientId']],
    ['findSummaryByTransactionId', ['generation', 'transactionId']],
    ['searchSummaries by request time', ['generation', 'requestedAt']],
  ])('has an index for %s', (_query, fields) => {
    expect(keys).toContainEqual(fields);
  });

  it('keeps (owner, clientId) unique within each copy only', () => {
    expect(SUMMARY_INDEXES.find((index) => index.unique)?.key).toStrictEqual({
      generation: 1,
      owner: 1,
      clientId: 1,
    });
  });
});
