/**
 * Double entry: every customer account event is one leg of a transfer whose other leg, on a
 * system account of the same currency, is fixed by the event's type. Pure, so the balances
 * projection and the audit apply one table and cannot disagree.
 */

import type { AccountEvent } from './account.events';

/** Funding: money entering from outside. Provider clearing: money handed to the provider. */
export type LedgerAccount = 'customer' | 'funding' | 'clearing';

/**
 * How one event moves one account's balances, seen from that account: credits positive, debits
 * negative. A customer's `pending` in the account state is the holds it owes, so it equals minus
 * the sum of its pending legs; its `posted` equals the sum of its posted legs.
 */
export interface Leg {
  account: LedgerAccount;
  posted: number;
  pending: number;
}

/**
 * The legs of one event: empty when no money moves (opening, overdraft change, refusal);
 * otherwise two legs that sum to zero, posted and pending separately.
 */
export function legsOf(event: AccountEvent): Leg[] {
  switch (event.type) {
    case 'FundsDeposited':
      return transfer('funding', 'customer', event.data.amount, 'posted');
    case 'FundsHeld':
      return transfer('customer', 'clearing', event.data.amount, 'pending');
    case 'HoldPosted': {
      // The pending debit becomes a posted one on both sides.
      const amount = event.data.amount;
      return [
        { account: 'customer', posted: -amount, pending: amount },
        { account: 'clearing', posted: amount, pending: -amount },
      ];
    }
    case 'HoldVoided':
      return transfer('clearing', 'customer', event.data.amount, 'pending');
    case 'PostedHoldRefunded':
      return transfer('clearing', 'customer', event.data.amount, 'posted');
    case 'VoidedHoldPosted':
      return transfer('customer', 'clearing', event.data.amount, 'posted');
    case 'AccountOpened':
    case 'OverdraftLimitSet':
    case 'HoldRefused':
      return [];
  }
}

/** A debit of one account and the equal credit of another, on one of the two balances. */
function transfer(
  debited: LedgerAccount,
  credited: LedgerAccount,
  amount: number,
  balance: 'posted' | 'pending',
): Leg[] {
  const debit =
    balance === 'posted' ? { posted: -amount, pending: 0 } : { posted: 0, pending: -amount };
  const credit =
    balance === 'posted' ? { posted: amount, pending: 0 } : { posted: 0, pending: amount };
  return [
    { account: debited, ...debit },
    { account: credited, ...credit },
  ];
}
