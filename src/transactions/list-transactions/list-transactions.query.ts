import type { TransactionStatus } from '../transaction.events';

export class ListTransactionsQuery {
  constructor(
    readonly owner: string,
    readonly limit: number,
    readonly status?: TransactionStatus,
    /** Exclusive: only transactions requested before this position. */
    readonly before?: bigint,
  ) {}
}
