/** What may be asked of a transaction, with the facts each request brings (times, jitter). */

import type {
  AmbiguityReason,
  ProviderStatus,
  StatusCheckResult,
  TransactionRequest,
} from './transaction.events';

/** How we treat the provider; from configuration, passed in with each command. */
export interface ProviderPolicy {
  maxAttempts: number;
  /** The provider's own gateway timeout: a late record can only appear after it. */
  gatewayTimeoutMs: number;
  /** A record can appear this long after the POST that created it. */
  lateWindowMs: number;
  /** Safety margin after the late window before a 404 proves the attempt lost. */
  lateWindowMarginMs: number;
  /**
   * After recording its intent, a worker sends the POST within this long or never: a stalled
   * worker whose lease expired may still be on its way, and this bounds when its POST can leave.
   */
  sendWindowMs: number;
  checkBaseDelayMs: number;
  checkMaxDelayMs: number;
}

export interface RequestTransaction {
  type: 'RequestTransaction';
  transactionId: string;
  owner: string;
  clientId: string;
  request: TransactionRequest;
  requestedAt: string;
}

export interface StartSubmission {
  type: 'StartSubmission';
  attempt: number;
  at: string;
  policy: ProviderPolicy;
  /**
   * The amount the customer's account holds for this transaction, as the worker just read it
   * (null: no hold). The first submission records it; none starts without it.
   */
  heldAmount: number | null;
}

/** The account refused the hold (insufficient funds): the transaction fails without the provider. */
export interface RecordFundsRefused {
  type: 'RecordFundsRefused';
  /** The available balance the account decided against. */
  available: number;
  at: string;
}

/** The account's hold was settled: posted (captured) or voided (released). */
export interface RecordFundsSettled {
  type: 'RecordFundsSettled';
  funds: 'captured' | 'released';
  at: string;
}

/**
 * The hold's expiry came. A transaction never submitted by then fails (nothing can have reached
 * the provider), so its hold can be released; one that was submitted keeps its hold.
 */
export interface ExpireHold {
  type: 'ExpireHold';
  at: string;
}

export type SubmissionResult =
  | { kind: 'final'; status: ProviderStatus }
  | { kind: 'pending' }
  | { kind: 'ambiguous'; reason: AmbiguityReason; detail: string };

export interface RecordSubmissionResult {
  type: 'RecordSubmissionResult';
  attempt: number;
  result: SubmissionResult;
  at: string;
  /** Uniform in [0, 1): the full-jitter draw for the first status check. */
  jitter: number;
  policy: ProviderPolicy;
}

export interface RecordStatusCheck {
  type: 'RecordStatusCheck';
  attempt: number;
  checkNumber: number;
  result: StatusCheckResult;
  /** The provider's Retry-After on a 429. */
  retryAfterMs: number | null;
  at: string;
  jitter: number;
  policy: ProviderPolicy;
}

export interface RecordProviderReport {
  type: 'RecordProviderReport';
  status: ProviderStatus | 'pending';
  source: 'webhook';
  at: string;
  /** The signed report's `webhook-id`; null for an unsigned one. */
  reportId: string | null;
}

export interface ExpireDeadline {
  type: 'ExpireDeadline';
  at: string;
}

export interface ResolveBySupport {
  type: 'ResolveBySupport';
  status: 'SUCCEEDED' | 'FAILED';
  note: string;
  providerStatus: ProviderStatus | 'pending' | 'not_found' | null;
  at: string;
}

export type TransactionCommand =
  | RequestTransaction
  | StartSubmission
  | RecordSubmissionResult
  | RecordStatusCheck
  | RecordProviderReport
  | ExpireDeadline
  | ResolveBySupport
  | RecordFundsRefused
  | RecordFundsSettled
  | ExpireHold;
