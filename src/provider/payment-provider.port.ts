/**
 * The payment provider port. Every answer is classified so that the caller can never mistake an
 * ambiguous outcome (the provider may or may not have the transaction) for a failure.
 */

export type ProviderFinalStatus = 'completed' | 'declined';

export type SubmissionOutcome =
  /** The provider answered with the final status. */
  | { kind: 'final'; status: ProviderFinalStatus }
  /** The provider has the transaction and is still working on it. */
  | { kind: 'pending' }
  /** Nobody knows whether the provider has it: 504, our timeout, a broken connection, nonsense. */
  | { kind: 'ambiguous'; reason: AmbiguityReason; detail: string };

export type AmbiguityReason = 'gateway_timeout' | 'timeout' | 'connection' | 'unexpected_response';

export type StatusCheckOutcome =
  | { kind: 'found'; status: ProviderFinalStatus | 'pending' }
  | { kind: 'not_found' }
  /** The provider asks us to slow down; `retryAfterMs` is its Retry-After, when given. */
  | { kind: 'rate_limited'; retryAfterMs: number | null }
  | { kind: 'error'; detail: string }
  /** The send deadline passed before the request left: the provider was not asked. */
  | { kind: 'not_sent' };

export interface Submission {
  /** The id the provider knows the transaction by: our internal transaction id. */
  providerId: string;
  webhookUrl: string;
  /**
   * Epoch milliseconds: the POST leaves by then or not at all (then the outcome is `ambiguous`
   * `connection`, and nothing was sent). Past it, another worker may have counted the late
   * window from this deadline, so a POST leaving later could be charged twice.
   */
  sendBy: number;
}

export abstract class PaymentProvider {
  /** Never rejects: every failure is an outcome. */
  abstract submit(submission: Submission): Promise<SubmissionOutcome>;
  /**
   * Never rejects: every failure is an outcome. The GET leaves by `sendBy` (epoch ms) or not at
   * all (`not_sent`): a check granted by the shared budget must reach the provider close to the
   * moment it was granted, or checks granted over a long stall would arrive together.
   */
  abstract checkStatus(providerId: string, sendBy: number): Promise<StatusCheckOutcome>;
  /** Calls still waiting answer at once: a submission as ambiguous, its outcome unknown. */
  abstract close(): Promise<void>;
}
