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
  | ResolveBySupport;
