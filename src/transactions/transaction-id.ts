import { v5 as uuidv5 } from 'uuid';

/** Fixed namespace for name-based (v5) transaction ids. Changing it would orphan every stream. */
const TRANSACTION_NAMESPACE = '6f1f7a52-4f0e-4c35-9a57-2b8d4c9e0a11';

/**
 * The internal id is derived from (owner, client id): a retry by the same owner always lands on
 * the same stream, and two owners using the same client id never share one.
 */
export function transactionIdFor(owner: string, clientId: string): string {
  return uuidv5(JSON.stringify([owner, clientId]), TRANSACTION_NAMESPACE);
}

/** Internal transaction ids are these (lower-case) UUIDs; anything else names no transaction. */
export const TRANSACTION_ID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const TRANSACTION_CATEGORY = 'transaction';

export function streamNameFor(transactionId: string): string {
  return `${TRANSACTION_CATEGORY}-${transactionId}`;
}

export function transactionIdOf(streamName: string): string {
  return streamName.slice(TRANSACTION_CATEGORY.length + 1);
}
