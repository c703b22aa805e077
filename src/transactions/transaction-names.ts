import type { TransactionStage, TransactionStatus } from './transaction.events';

/** The list of every member of the union T: one left out, or one not in T, fails to compile. */
const everyOf =
  <T extends string>() =>
  <const Listed extends readonly T[]>(
    list: Listed & ([Exclude<T, Listed[number]>] extends [never] ? unknown : never),
  ): Listed =>
    list;

/** The statuses, in the order the API documents them. */
export const TRANSACTION_STATUSES = everyOf<TransactionStatus>()([
  'PENDING',
  'SUCCEEDED',
  'FAILED',
]);

/** The statuses a transaction ends in. */
export const FINAL_STATUSES = TRANSACTION_STATUSES.filter(
  (status): status is Exclude<TransactionStatus, 'PENDING'> => status !== 'PENDING',
);

/** The stages, in the order a transaction can pass through them. */
export const TRANSACTION_STAGES = everyOf<TransactionStage>()([
  'requested',
  'submitted',
  'awaiting_provider',
  'timed_out',
  'checking',
  'needs_reconciliation',
  'final',
]);
