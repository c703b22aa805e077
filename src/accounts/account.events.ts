/**
 * What an account's stream says. One stream per customer and currency; amounts are integer minor
 * units of that currency. Types and names only, defined here once; the rest imports them.
 */

/** The first event of every account stream: whose money, in which currency. */
export interface AccountOpened {
  type: 'AccountOpened';
  data: { owner: string; currency: string; openedAt: string };
}

/** Money entering from outside (the funding account), recorded by an operator. */
export interface FundsDeposited {
  type: 'FundsDeposited';
  data: { depositId: string; amount: number; reference: string; at: string };
}

export interface OverdraftLimitSet {
  type: 'OverdraftLimitSet';
  data: { changeId: string; limit: number; at: string };
}

/**
 * A pending debit to provider clearing, reserved before the provider is called. `holdId` is the
 * transaction id; `expiresAt` bounds how long an orphan could keep the money reserved.
 */
export interface FundsHeld {
  type: 'FundsHeld';
  data: { holdId: string; amount: number; expiresAt: string; at: string };
}

/**
 * A hold the available balance did not cover. Recorded, not thrown: the refusal is a fact of the
 * account at that revision, so a replay of the same hold gets the same answer even after a later
 * deposit, and the transaction can end FAILED with insufficient_funds from it.
 */
export interface HoldRefused {
  type: 'HoldRefused';
  data: {
    holdId: string;
    amount: number;
    reason: 'insufficient_funds';
    /** The available balance the hold was decided against. */
    available: number;
    at: string;
  };
}

/** The hold becomes a posted debit: the transaction SUCCEEDED. */
export interface HoldPosted {
  type: 'HoldPosted';
  data: { holdId: string; amount: number; at: string };
}

export type VoidReason = 'transaction_failed' | 'expired';

/** The hold is released: the transaction FAILED, or it expired with no live transaction. */
export interface HoldVoided {
  type: 'HoldVoided';
  data: { holdId: string; amount: number; reason: VoidReason; at: string };
}

/**
 * Support decided the payment failed after its hold was posted: the money is given back (a
 * credit from provider clearing). The hold counts as voided from here on.
 */
export interface PostedHoldRefunded {
  type: 'PostedHoldRefunded';
  data: { holdId: string; amount: number; reason: 'resolved_by_support'; at: string };
}

/**
 * Support decided the payment succeeded after its hold was voided: the money did leave, so it is
 * taken after all. It may take available below the overdraft limit; the audit exempts it.
 */
export interface VoidedHoldPosted {
  type: 'VoidedHoldPosted';
  data: { holdId: string; amount: number; reason: 'resolved_by_support'; at: string };
}

export type AccountEvent =
  | AccountOpened
  | FundsDeposited
  | OverdraftLimitSet
  | FundsHeld
  | HoldRefused
  | HoldPosted
  | HoldVoided
  | PostedHoldRefunded
  | VoidedHoldPosted;

export type AccountEventType = AccountEvent['type'];

export const ACCOUNT_EVENT_TYPES: readonly AccountEventType[] = [
  'AccountOpened',
  'FundsDeposited',
  'OverdraftLimitSet',
  'FundsHeld',
  'HoldRefused',
  'HoldPosted',
  'HoldVoided',
  'PostedHoldRefunded',
  'VoidedHoldPosted',
];
