import type { TransactionState } from '../transactions/transaction.state';
import type { QueueReason } from '../transactions/read-model.port';

/**
 * Why a transaction belongs in the reconciliation queue, or null if it does not. An open case
 * wins over age: a deadline_exceeded case is also old and pending, but the case is what support
 * must act on. `pendingRequestedBefore` is an ISO 8601 UTC timestamp; ISO strings of one format
 * order like the instants they name.
 */
export function queueReasonOf(
  state: TransactionState,
  pendingRequestedBefore: string,
): QueueReason | null {
  if (!state.exists) return null;
  if (state.reconciliation !== null) return 'needs_reconciliation';
  if (state.status === 'PENDING' && state.requestedAt < pendingRequestedBefore) {
    return 'pending_too_long';
  }
  return null;
}
