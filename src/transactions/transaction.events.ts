/**
 * What a transaction's stream says: the vocabulary of its life and the events that record it.
 * Types and names only, defined here once; the rest of the code imports them.
 */

export type TransactionStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** Where the transaction is in its life, finer than the status; shown to support. */
export type TransactionStage =
  | 'requested'
  | 'submitted'
  | 'awaiting_provider'
  | 'timed_out'
  | 'checking'
  | 'needs_reconciliation'
  | 'final';

export type ProviderStatus = 'completed' | 'declined';

/**
 * Who told us the final status. `process_manager` means we concluded it ourselves; `ledger` that
 * the customer's account decided it (insufficient funds, or a hold that expired unsubmitted).
 */
export type StatusSource =
  'submission' | 'webhook' | 'status_check' | 'process_manager' | 'support' | 'ledger';

/**
 * Where the transaction's money stands on the customer's account: reserved before the provider
 * is called, refused when the balance did not cover it, then captured (SUCCEEDED) or released
 * (FAILED).
 */
export type FundsStatus = 'held' | 'refused' | 'captured' | 'released';

/** Why an attempt's outcome is unknown. `interrupted`: we crashed while it was in flight. */
export type AmbiguityReason =
  'gateway_timeout' | 'timeout' | 'connection' | 'unexpected_response' | 'interrupted';

export type StatusCheckResult =
  'pending' | 'completed' | 'declined' | 'not_found' | 'rate_limited' | 'error';

export type ReconciliationReason = 'conflicting_reports' | 'deadline_exceeded';

export interface TransactionRequest {
  /** Integer minor units of `currency`. */
  amount: number;
  /** ISO 4217 code. */
  currency: string;
  recipient: string;
  note: string | null;
}

export interface TransactionRequested {
  type: 'TransactionRequested';
  data: TransactionRequest & {
    transactionId: string;
    owner: string;
    clientId: string;
    requestedAt: string;
  };
}

/**
 * The account holds the amount (its FundsHeld, hold id = transactionId). Recorded with the first
 * submission, in the same append: no submission is ever recorded without it.
 */
export interface FundsReserved {
  type: 'FundsReserved';
  data: { amount: number; at: string };
}

/** The account refused the hold: followed by StatusConfirmed FAILED insufficient_funds. */
export interface FundsRefused {
  type: 'FundsRefused';
  data: { amount: number; available: number; at: string };
}

/** The hold was posted on the account: the money went to the provider (SUCCEEDED). */
export interface FundsCaptured {
  type: 'FundsCaptured';
  data: { amount: number; at: string };
}

/** The hold was voided on the account: the money is the customer's again (FAILED). */
export interface FundsReleased {
  type: 'FundsReleased';
  data: { amount: number; at: string };
}

/** The intent record: appended before the provider is called, so a crash can't hide a POST. */
export interface ProviderSubmissionStarted {
  type: 'ProviderSubmissionStarted';
  /** `sendBy`: the POST leaves by then or never (absent on events recorded before it existed). */
  data: { attempt: number; startedAt: string; sendBy?: string };
}

/** The provider has it and is still working (status pending). */
export interface ProviderAccepted {
  type: 'ProviderAccepted';
  data: { attempt: number; at: string };
}

export interface ProviderTimedOut {
  type: 'ProviderTimedOut';
  data: { attempt: number; reason: AmbiguityReason; detail: string; at: string };
}

export interface StatusCheckScheduled {
  type: 'StatusCheckScheduled';
  data: { attempt: number; checkNumber: number; dueAt: string; reason: string };
}

export interface StatusChecked {
  type: 'StatusChecked';
  data: { attempt: number; checkNumber: number; result: StatusCheckResult; at: string };
}

/** A 404 after the late window: the provider provably never got this attempt. */
export interface ProviderAttemptLost {
  type: 'ProviderAttemptLost';
  data: { attempt: number; at: string };
}

export interface StatusConfirmed {
  type: 'StatusConfirmed';
  data: {
    status: 'SUCCEEDED' | 'FAILED';
    source: StatusSource;
    providerStatus: ProviderStatus | null;
    reason: string | null;
    at: string;
    /** The `webhook-id` of the signed report that said so, if any. */
    reportId?: string;
  };
}

export interface ConflictingStatusReported {
  type: 'ConflictingStatusReported';
  data: {
    reported: ProviderStatus;
    source: StatusSource;
    confirmed: TransactionStatus;
    at: string;
    reportId?: string;
  };
}

export interface ReconciliationRequired {
  type: 'ReconciliationRequired';
  data: { reason: ReconciliationReason; at: string };
}

/** A person settled a case: the status they decided, why, and what it replaced. */
export interface ResolvedBySupport {
  type: 'ResolvedBySupport';
  data: {
    status: 'SUCCEEDED' | 'FAILED';
    previousStatus: TransactionStatus;
    reconciliation: ReconciliationReason;
    note: string;
    /** What the provider said when support asked just before deciding, if they asked. */
    providerStatus: ProviderStatus | 'pending' | 'not_found' | null;
    at: string;
  };
}

export type TransactionEvent =
  | TransactionRequested
  | ProviderSubmissionStarted
  | ProviderAccepted
  | ProviderTimedOut
  | StatusCheckScheduled
  | StatusChecked
  | ProviderAttemptLost
  | StatusConfirmed
  | ConflictingStatusReported
  | ReconciliationRequired
  | ResolvedBySupport
  | FundsReserved
  | FundsRefused
  | FundsCaptured
  | FundsReleased;

export type TransactionEventType = TransactionEvent['type'];

export const TRANSACTION_EVENT_TYPES: readonly TransactionEventType[] = [
  'TransactionRequested',
  'ProviderSubmissionStarted',
  'ProviderAccepted',
  'ProviderTimedOut',
  'StatusCheckScheduled',
  'StatusChecked',
  'ProviderAttemptLost',
  'StatusConfirmed',
  'ConflictingStatusReported',
  'ReconciliationRequired',
  'ResolvedBySupport',
  'FundsReserved',
  'FundsRefused',
  'FundsCaptured',
  'FundsReleased',
];
