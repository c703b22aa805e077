/** Real seconds per provider second in end-to-end tests: the 120 s late window takes 2.4 s. */
export const SCALE = 0.02;

export const providerMs = (seconds: number) => String(Math.round(seconds * 1000 * SCALE));

/** The service configured for the simulator's compressed time, reference values scaled. */
export function compressedServiceEnv(providerUrl: string): Record<string, string> {
  return {
    PROVIDER_URL: providerUrl,
    PROVIDER_GATEWAY_TIMEOUT_MS: providerMs(30),
    PROVIDER_SUBMIT_TIMEOUT_MS: providerMs(45),
    PROVIDER_LATE_WINDOW_MS: providerMs(120),
    PROVIDER_LATE_WINDOW_MARGIN_MS: providerMs(15),
    STATUS_CHECK_BASE_DELAY_MS: providerMs(5),
    STATUS_CHECK_MAX_DELAY_MS: providerMs(60),
    // 2 checks per provider second, the default, in compressed time.
    STATUS_CHECK_RATE: String(2 / SCALE),
    STATUS_CHECK_MIN_RATE: String(0.2 / SCALE),
    STATUS_CHECK_DEFAULT_BACKOFF_MS: providerMs(10),
    RECONCILIATION_DEADLINE_MS: providerMs(900),
    WORKER_POLL_INTERVAL_MS: '20',
    WORKER_LEASE_MS: '1000',
  };
}
