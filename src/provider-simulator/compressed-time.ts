/**
 * The service configured for the simulator running at `scale` real seconds per provider second:
 * the reference provider's timings (docs/design.md) and the service's defaults, scaled. Used by the
 * end-to-end tests (test/support/compressed-time.ts) and bench:provider-mix, so that both run the
 * same configuration.
 */

/** Provider seconds (and checks per provider second) of the reference setup. */
export const REFERENCE_TIMINGS = {
  gatewayTimeout: 30,
  submitTimeout: 45,
  lateWindow: 120,
  lateWindowMargin: 15,
  sendWindow: 5,
  checkBaseDelay: 5,
  checkMaxDelay: 60,
  checkRate: 2,
  checkMinRate: 0.2,
  checkDefaultBackoff: 10,
  reconciliationDeadline: 900,
  maxAttempts: 2,
} as const;

export function compressedServiceEnv(providerUrl: string, scale: number): Record<string, string> {
  const ms = (seconds: number) => String(Math.round(seconds * 1000 * scale));
  const reference = REFERENCE_TIMINGS;
  return {
    PROVIDER_URL: providerUrl,
    PROVIDER_GATEWAY_TIMEOUT_MS: ms(reference.gatewayTimeout),
    PROVIDER_SUBMIT_TIMEOUT_MS: ms(reference.submitTimeout),
    PROVIDER_LATE_WINDOW_MS: ms(reference.lateWindow),
    PROVIDER_LATE_WINDOW_MARGIN_MS: ms(reference.lateWindowMargin),
    // Not below 1 s real: it bounds our own event loop's lag between the intent and the POST,
    // which does not shrink with the provider's time (a loaded test machine lags 100 ms and more).
    PROVIDER_SEND_WINDOW_MS: String(Math.max(1_000, Number(ms(reference.sendWindow)))),
    PROVIDER_MAX_ATTEMPTS: String(reference.maxAttempts),
    STATUS_CHECK_BASE_DELAY_MS: ms(reference.checkBaseDelay),
    STATUS_CHECK_MAX_DELAY_MS: ms(reference.checkMaxDelay),
    // Checks per real second: the reference rate per provider second, in compressed time.
    STATUS_CHECK_RATE: String(reference.checkRate / scale),
    STATUS_CHECK_MIN_RATE: String(reference.checkMinRate / scale),
    STATUS_CHECK_DEFAULT_BACKOFF_MS: ms(reference.checkDefaultBackoff),
    RECONCILIATION_DEADLINE_MS: ms(reference.reconciliationDeadline),
    WORKER_POLL_INTERVAL_MS: '20',
    WORKER_LEASE_MS: '1000',
  };
}
