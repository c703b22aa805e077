import type { TransactionSummary } from '../../transactions/read-model.port';
import type { StoredSummaryKey } from './summary-documents';

/** MongoDB's server error codes this adapter tells apart. */
export const MONGO_ERROR_CODES = { namespaceExists: 48, duplicateKey: 11000 } as const;

/**
 * By the error's `code`, not its class: a bulk write's error carries the code of its first failed
 * write, and `instanceof` across Jest's module registries is unreliable.
 */
export function hasErrorCode(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/** The error a commit rejects with when its change itself is wrong (the same as SQLite's). */
export function commitRejected(detail: string, cause?: unknown): Error {
  return new Error(`read model commit rejected: ${detail}`, { cause });
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

function sameFixedFields(stored: StoredSummaryKey, summary: TransactionSummary): boolean {
  return (
    stored.owner === summary.owner &&
    stored.clientId === summary.clientId &&
    stored.requestedPosition === summary.requestedPosition
  );
}

/**
 * Pure: which of a commit's summaries to write, given what the copy holds for their streams. In
 * order, so that a stream named twice in one change is judged against its own earlier summary.
 * A summary at a lower revision than the stored one is left out (the commit never goes back); one
 * at the same or a higher revision replaces it. Throws, rejecting the whole change, when a summary
 * alters its stream's owner, client id or requested position, whatever its revision.
 */
export function summariesToWrite(
  stored: Iterable<StoredSummaryKey>,
  summaries: readonly TransactionSummary[],
): TransactionSummary[] {
  const current = new Map<string, StoredSummaryKey>();
  for (const key of stored) current.set(key.streamName, key);
  const toWrite = new Map<string, TransactionSummary>();
  for (const summary of summaries) {
    const existing = current.get(summary.streamName);
    if (existing && !sameFixedFields(existing, summary)) {
      throw commitRejected(
        `${summary.streamName} already has another owner, client id or requested position`,
      );
    }
    if (existing && existing.revision > summary.revision) continue;
    current.set(summary.streamName, summary);
    toWrite.set(summary.streamName, summary);
  }
  return [...toWrite.values()];
}
