/** Events and times for given/when/then histories of the transaction decider and its reactions. */
import type { ProviderPolicy } from '../../src/transactions/transaction.commands';
import type {
  AmbiguityReason,
  TransactionEvent,
  TransactionRequested,
} from '../../src/transactions/transaction.events';

export const policy: ProviderPolicy = {
  maxAttempts: 2,
  gatewayTimeoutMs: 30_000,
  lateWindowMs: 120_000,
  lateWindowMarginMs: 15_000,
  sendWindowMs: 5_000,
  checkBaseDelayMs: 5_000,
  checkMaxDelayMs: 60_000,
};

export const T0 = Date.parse('2026-11-21T10:00:00.000Z');
/** The time `seconds` after T0, as events carry it. */
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export const requested: TransactionRequested = {
  type: 'TransactionRequested',
  data: {
    transactionId: 'tx-1',
    owner: 'alice',
    clientId: 'order-1',
    amount: 2500,
    currency: 'KES',
    recipient: 'bob',
    note: null,
    requestedAt: at(0),
  },
};

export const started = (attempt: number, second: number): TransactionEvent => ({
  type: 'ProviderSubmissionStarted',
  data: { attempt, startedAt: at(second), sendBy: at(second + policy.sendWindowMs / 1000) },
});

export const timedOut = (
  attempt: number,
  second: number,
  reason: AmbiguityReason = 'gateway_timeout',
  detail = '504',
): TransactionEvent => ({
  type: 'ProviderTimedOut',
  data: { attempt, reason, detail, at: at(second) },
});

export const scheduled = (
  attempt: number,
  checkNumber: number,
  dueSecond: number,
): TransactionEvent => ({
  type: 'StatusCheckScheduled',
  data: { attempt, checkNumber, dueAt: at(dueSecond), reason: 'test' },
});

/** The customer's account holds the amount: recorded with the first submission. */
export const reserved = (second: number): TransactionEvent => ({
  type: 'FundsReserved',
  data: { amount: requested.data.amount, at: at(second) },
});
