/**
 * What may be asked of an account. Every command names its account (owner and currency choose
 * the stream) and carries its own id, so a retry is recognised, and its time, so the decider
 * reads no clock.
 */

import type { VoidReason } from './account.events';

interface AccountCommandBase {
  owner: string;
  currency: string;
  at: string;
}

export interface Deposit extends AccountCommandBase {
  type: 'Deposit';
  depositId: string;
  amount: number;
  reference: string;
}

export interface SetOverdraftLimit extends AccountCommandBase {
  type: 'SetOverdraftLimit';
  changeId: string;
  limit: number;
}

export interface PlaceHold extends AccountCommandBase {
  type: 'PlaceHold';
  /** The transaction id. */
  holdId: string;
  amount: number;
  expiresAt: string;
}

export interface PostHold extends AccountCommandBase {
  type: 'PostHold';
  holdId: string;
}

export interface VoidHold extends AccountCommandBase {
  type: 'VoidHold';
  holdId: string;
  reason: VoidReason;
}

/**
 * Support resolved the transaction against how its hold was settled: `to: 'voided'` refunds a
 * posted hold, `to: 'posted'` takes a voided one after all.
 */
export interface ReverseHold extends AccountCommandBase {
  type: 'ReverseHold';
  holdId: string;
  to: 'posted' | 'voided';
  reason: 'resolved_by_support';
}

export type AccountCommand =
  Deposit | SetOverdraftLimit | PlaceHold | PostHold | VoidHold | ReverseHold;
