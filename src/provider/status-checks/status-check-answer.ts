import type { ProviderFinalStatus, StatusCheckOutcome } from '../payment-provider.port';

/** What a status check taken under the shared budget came to. */
export type StatusCheckAnswer =
  /** The budget allows no check before `retryAt` (epoch ms); the provider was not asked. */
  | { kind: 'refused'; retryAt: number }
  /** The provider answered. */
  | { kind: 'answered'; providerStatus: ProviderFinalStatus | 'pending' | 'not_found' }
  /** The provider wants fewer checks: the shared budget slowed down for `retryAfterMs`. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** No answer (network, 5xx). */
  | { kind: 'unavailable'; detail: string };

/** The provider's answer; a 429 without Retry-After waits `defaultBackoffMs`. */
export function interpretProviderCheck(
  outcome: Exclude<StatusCheckOutcome, { kind: 'not_sent' }>,
  defaultBackoffMs: number,
): Exclude<StatusCheckAnswer, { kind: 'refused' }> {
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
