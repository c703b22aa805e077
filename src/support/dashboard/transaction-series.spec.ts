import type { ExistingTransaction, TransactionState } from '../../transactions/transaction.state';
import { evolve, initialState } from '../../transactions/transaction.state';
import { transactionsPerBucket } from './transaction-series';

const MINUTE = 60_000;
const T0 = Date.parse('2026-12-05T12:00:00.000Z');

function requested(clientId: string, at: number): ExistingTransaction {
  const state: TransactionState = evolve(initialState, {
    type: 'TransactionRequested',
    data: {
      transactionId: `id-${clientId}`,
      owner: 'carol',
      clientId,
      amount: 100,
      currency: 'KES',
      recipient: 'dan',
      note: null,
      requestedAt: new Date(at).toISOString(),
    },
  });
  if (!state.exists) throw new Error('TransactionRequested makes a transaction');
  return state;
}

const withStatus = (
  transaction: ExistingTransaction,
  status: ExistingTransaction['status'],
): ExistingTransaction => ({ ...transaction, status });

describe('transactions per bucket', () => {
  it('counts each transaction in the bucket of its request, by its status now; empty buckets included', () => {
    const buckets = transactionsPerBucket(
      [
        withStatus(requested('a', T0), 'SUCCEEDED'),
        withStatus(requested('b', T0 + MINUTE - 1), 'FAILED'),
        requested('c', T0 + 30_000),
        withStatus(requested('d', T0 + 2 * MINUTE), 'SUCCEEDED'),
        // Before `from` and after `to`: left out.
        withStatus(requested('e', T0 - 1), 'SUCCEEDED'),
        withStatus(requested('f', T0 + 3 * MINUTE), 'SUCCEEDED'),
      ],
      T0,
      T0 + 2 * MINUTE + 10_000,
      MINUTE,
    );
    expect(buckets).toEqual([
      { at: T0, succeeded: 1, failed: 1, pending: 1 },
      { at: T0 + MINUTE, succeeded: 0, failed: 0, pending: 0 },
      { at: T0 + 2 * MINUTE, succeeded: 1, failed: 0, pending: 0 },
    ]);
  });

  it('starts with the bucket holding `from` when `from` is not on a boundary', () => {
    const buckets = transactionsPerBucket(
      [requested('a', T0 + 45_000)],
      T0 + 40_000,
      T0 + 50_000,
      MINUTE,
    );
    expect(buckets).toEqual([{ at: T0, succeeded: 0, failed: 0, pending: 1 }]);
  });
});
