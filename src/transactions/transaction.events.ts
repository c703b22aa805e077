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

/** Who told us the final status. `process_manager` means we concluded it ourselves. */
export type StatusSource =
  'submission' | 'webhook' | 'status_check' | 'process_manager' | 'support';

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

/** The intent record: appended before the provider is called, so a crash can't hide a POST. */
export interface ProviderSubmissionStarted {
  type: 'ProviderSubmissionStarted';
  data: { attempt: number; startedAt: string };
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
  | ResolvedBySupport;

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
];
