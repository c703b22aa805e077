import type { TransactionSummary } from '../transactions/read-model.port';

/** What a commit compares a new summary against: the fixed fields and the revision. */
export type StoredSummaryKey = Pick<
  TransactionSummary,
  'streamName' | 'owner' | 'clientId' | 'requestedPosition' | 'revision'
>;

/** The error a commit rejects with when its change itself is wrong, worded as SQLite's is. */
export function commitRejected(detail: string, cause?: unknown): Error {
  return new Error(`read model commit rejected: ${detail}`, { cause });
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
