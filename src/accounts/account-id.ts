import { v5 as uuidv5 } from 'uuid';

/** Fixed namespace for name-based (v5) account ids. Changing it would orphan every stream. */
const ACCOUNT_NAMESPACE = '3b0c6f0e-5d7a-4f2e-8a41-9c2d7e15b6a3';

/**
 * One account per customer and currency: its id is derived from the pair, so every writer (a
 * deposit, a transaction's hold) finds the same stream without a lookup.
 */
export function accountIdFor(owner: string, currency: string): string {
  return uuidv5(JSON.stringify([owner, currency]), ACCOUNT_NAMESPACE);
}

export const ACCOUNT_CATEGORY = 'account';

export function accountStreamName(owner: string, currency: string): string {
  return `${ACCOUNT_CATEGORY}-${accountIdFor(owner, currency)}`;
}
