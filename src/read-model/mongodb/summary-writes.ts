import { commitRejected } from '../summary-commits';

/** MongoDB's server error codes this adapter tells apart. */
export const MONGO_ERROR_CODES = { namespaceExists: 48, duplicateKey: 11000 } as const;

/**
 * By the error's `code`, not its class: a bulk write's error carries the code of its first failed
 * write, and `instanceof` across Jest's module registries is unreliable.
 */
export function hasErrorCode(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/**
 * A duplicate key in a commit can only come from the unique (generation, owner, clientId) index:
 * summaries are upserted by _id. It means a summary claims another stream's (owner, clientId).
 * Any other error (network, timeout, a transaction that kept conflicting) is not the change's
 * fault and passes through unchanged.
 */
export function asCommitRejection(error: unknown): unknown {
  if (!hasErrorCode(error, MONGO_ERROR_CODES.duplicateKey)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return commitRejected(
    `a summary claims the owner and client id of another stream (${message})`,
    error,
  );
}
