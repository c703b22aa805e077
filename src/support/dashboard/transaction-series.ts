/**
 * Support's dashboard: transactions per time bucket by their status now. Pure: summaries and
 * times in, counts out.
 */
import { bucketStart, bucketStarts } from '../../provider-health/provider-health.history';
import type { ExistingTransaction } from '../../transactions/transaction.state';

export interface TransactionsBucket {
  /** The bucket's start (ms since the epoch): transactions requested in [at, at + bucketMs). */
  at: number;
  succeeded: number;
  failed: number;
  pending: number;
}

const COUNTED: Record<ExistingTransaction['status'], keyof Omit<TransactionsBucket, 'at'>> = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  PENDING: 'pending',
};

/**
 * Each bucket from the one holding `from` to the one holding `to`, empty ones included, with the
 * transactions requested in it counted by their status now; those requested outside are left out.
 */
export function transactionsPerBucket(
  transactions: readonly ExistingTransaction[],
  from: number,
  to: number,
  bucketMs: number,
): TransactionsBucket[] {
  const starts = bucketStarts(from, to, bucketMs);
  const buckets = starts.map((at) => ({ at, succeeded: 0, failed: 0, pending: 0 }));
  for (const transaction of transactions) {
    const requestedAt = Date.parse(transaction.requestedAt);
    if (requestedAt < from || requestedAt > to) continue;
    const index = (bucketStart(requestedAt, bucketMs) - starts[0]) / bucketMs;
    buckets[index][COUNTED[transaction.status]] += 1;
  }
  return buckets;
}
