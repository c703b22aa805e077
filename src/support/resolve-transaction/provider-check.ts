import type { StatusCheckOutcome } from '../../provider/payment-provider.port';
import type { ResolveBySupport } from '../../transactions/transaction.commands';

/** What a status check asked for support means for the resolution. */
export type ProviderCheckAnswer =
  /** The provider answered: recorded in ResolvedBySupport for whoever reads the case later. */
  | { kind: 'answered'; providerStatus: NonNullable<ResolveBySupport['providerStatus']> }
  /** The provider wants fewer checks: the shared budget slows down, and support retries later. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** No answer (network, 5xx): support retries, or resolves without asking. */
  | { kind: 'unavailable'; detail: string };

export function interpretProviderCheck(
  outcome: StatusCheckOutcome,
  defaultBackoffMs: number,
): ProviderCheckAnswer {
  switch (outcome.kind) {
    case 'found':
      return { kind: 'answered', providerStatus: outcome.status };
    case 'not_found':
      return { kind: 'answered', providerStatus: 'not_found' };
    case 'rate_limited':
      return { kind: 'rate_limited', retryAfterMs: outcome.retryAfterMs ?? defaultBackoffMs };
    case 'error':
      return { kind: 'unavailable', detail: outcome.detail };
  }
}

/** Retry-After is whole seconds; rounding up (and at least 1) never invites an early retry. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
