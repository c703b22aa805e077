/**
 * What settling a transaction's hold takes, pure: the account command that makes the hold match
 * the transaction's final status, and what the transaction then records. Shared by the settle
 * step and the property test of the whole money flow.
 */
import type { AccountCommand } from '../accounts/account.commands';
import type { Hold } from '../accounts/account.state';
import type { ExistingTransaction } from '../transactions/transaction.state';

export interface HoldSettlement {
  /** Null when the hold already matches (a second run after a crash). */
  command: AccountCommand | null;
  funds: 'captured' | 'released';
}

/**
 * SUCCEEDED posts the hold, FAILED voids it (as expired when the hold's expiry failed the
 * transaction); a support resolution against an already settled hold reverses it. Null while the
 * transaction is PENDING, or when nothing is held (refused, or requested before accounts).
 */
export function holdSettlement(
  transaction: ExistingTransaction,
  hold: Hold | undefined,
  at: string,
): HoldSettlement | null {
  if (transaction.status === 'PENDING' || !hold || hold.status === 'refused') return null;
  const account = { owner: transaction.owner, currency: transaction.request.currency, at };
  const holdId = transaction.transactionId;
  const target = transaction.status === 'SUCCEEDED' ? 'posted' : 'voided';
  const funds = target === 'posted' ? 'captured' : 'released';
  if (hold.status === target) return { command: null, funds };
  if (hold.status === 'held') {
    const command: AccountCommand =
      target === 'posted'
        ? { type: 'PostHold', ...account, holdId }
        : {
            type: 'VoidHold',
            ...account,
            holdId,
            reason: transaction.failureReason === 'hold_expired' ? 'expired' : 'transaction_failed',
          };
    return { command, funds };
  }
  return {
    command: { type: 'ReverseHold', ...account, holdId, to: target, reason: 'resolved_by_support' },
    funds,
  };
}
