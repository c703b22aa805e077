/** Real seconds per provider second in end-to-end tests: the 120 s late window takes 2.4 s. */
export const SCALE = 0.02;

export const providerMs = (seconds: number, scale = SCALE) =>
  String(Math.round(seconds * 1000 * scale));

/** The service configured for the simulator's compressed time, reference values scaled. */
export function compressedServiceEnv(providerUrl: string, scale = SCALE): Record<string, string> {
  const ms = (seconds: number) => providerMs(seconds, scale);
  return {
    PROVIDER_URL: providerUrl,
    PROVIDER_GATEWAY_TIMEOUT_MS: ms(30),
    PROVIDER_SUBMIT_TIMEOUT_MS: ms(45),
    PROVIDER_LATE_WINDOW_MS: ms(120),
    PROVIDER_LATE_WINDOW_MARGIN_MS: ms(15),
    STATUS_CHECK_BASE_DELAY_MS: ms(5),
    STATUS_CHECK_MAX_DELAY_MS: ms(60),
    // 2 checks per provider second, the default, in compressed time.
    STATUS_CHECK_RATE: String(2 / scale),
    STATUS_CHECK_MIN_RATE: String(0.2 / scale),
    STATUS_CHECK_DEFAULT_BACKOFF_MS: ms(10),
    RECONCILIATION_DEADLINE_MS: ms(900),
    WORKER_POLL_INTERVAL_MS: '20',
    WORKER_LEASE_MS: '1000',
  };
}
