import { NotLeaderError, UnavailableError } from './eventstoredb-client';

/**
 * A node that is starting, electing a leader, or not the leader answers "unavailable" or "not
 * leader" before it has done anything: asking again shortly is safe, and better than turning a
 * customer's request into an error while the server finishes starting.
 */
export function isNotReady(error: unknown): boolean {
  return error instanceof UnavailableError || error instanceof NotLeaderError;
}

/** About 12 s in all: long enough for a node to start and elect itself, short for a client. */
export const NOT_READY_RETRY_DELAYS_MS: readonly number[] = [
  100, 200, 400, 800, 1600, 3000, 3000, 3000,
];

export interface NotReadyRetry {
  /** One delay per retry; when they run out, the last not-ready error is thrown. */
  delaysMs: readonly number[];
  wait: (ms: number) => Promise<void>;
  onRetry?: (error: unknown, delayMs: number) => void;
}

/** Runs `operation`, again after each delay while the server answers that it is not ready. */
export async function retryWhileNotReady<T>(
  operation: () => Promise<T>,
  retry: NotReadyRetry,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      const delayMs = retry.delaysMs[attempt];
      if (!isNotReady(error) || delayMs === undefined) throw error;
      retry.onRetry?.(error, delayMs);
      await retry.wait(delayMs);
    }
  }
}
