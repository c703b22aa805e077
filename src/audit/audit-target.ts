import { TRANSACTION_ID_PATTERN, transactionIdFor } from '../transactions/transaction-id';

/**
 * The internal transaction id an auditor means: the id itself, or `owner/clientId` (split at the
 * last slash: client ids never contain one). Null when it is neither.
 */
export function transactionIdOfTarget(target: string): string | null {
  if (TRANSACTION_ID_PATTERN.test(target)) return target;
  const slash = target.lastIndexOf('/');
  if (slash <= 0 || slash === target.length - 1) return null;
  return transactionIdFor(target.slice(0, slash), target.slice(slash + 1));
}
