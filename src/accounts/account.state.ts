/**
 * What an account is, as its events tell it: `evolve` folds one event into the state. Pure: no
 * I/O, no clock, so an auditor replays a stream to the same balances.
 */

import type { AccountEvent } from './account.events';

export type HoldStatus = 'held' | 'refused' | 'posted' | 'voided';

export interface Hold {
  amount: number;
  expiresAt: string | null;
  status: HoldStatus;
}

export interface OpenAccount {
  opened: true;
  owner: string;
  currency: string;
  /** Deposits less posted holds. */
  posted: number;
  /** Holds still held. */
  pending: number;
  overdraftLimit: number;
  /** Every deposit by id, to recognise a retry. */
  deposits: Readonly<Record<string, { amount: number; reference: string }>>;
  /** Every overdraft change by id, to recognise a retry. */
  overdraftChanges: Readonly<Record<string, number>>;
  /** Every hold by id (the transaction id), whatever became of it. */
  holds: Readonly<Record<string, Hold>>;
}

export type AccountState = { opened: false } | OpenAccount;

export const initialState: AccountState = { opened: false };

/** What the customer may still spend: posted less pending holds, plus the overdraft allowed. */
export function availableBalance(account: OpenAccount): number {
  return account.posted - account.pending + account.overdraftLimit;
}

function withHold(account: OpenAccount, holdId: string, hold: Hold): OpenAccount {
  return { ...account, holds: { ...account.holds, [holdId]: hold } };
}

function openedOnly(state: AccountState, event: AccountEvent): OpenAccount {
  if (!state.opened) throw new Error(`${event.type} before AccountOpened`);
  return state;
}

export function evolve(state: AccountState, event: AccountEvent): AccountState {
  if (event.type === 'AccountOpened') {
    return {
      opened: true,
      owner: event.data.owner,
      currency: event.data.currency,
      posted: 0,
      pending: 0,
      overdraftLimit: 0,
      deposits: {},
      overdraftChanges: {},
      holds: {},
    };
  }
  const account = openedOnly(state, event);
  switch (event.type) {
    case 'FundsDeposited': {
      const { depositId, amount, reference } = event.data;
      return {
        ...account,
        posted: account.posted + amount,
        deposits: { ...account.deposits, [depositId]: { amount, reference } },
      };
    }
    case 'OverdraftLimitSet':
      return {
        ...account,
        overdraftLimit: event.data.limit,
        overdraftChanges: { ...account.overdraftChanges, [event.data.changeId]: event.data.limit },
      };
    case 'FundsHeld': {
      const { holdId, amount, expiresAt } = event.data;
      return withHold({ ...account, pending: account.pending + amount }, holdId, {
        amount,
        expiresAt,
        status: 'held',
      });
    }
    case 'HoldRefused':
      return withHold(account, event.data.holdId, {
        amount: event.data.amount,
        expiresAt: null,
        status: 'refused',
      });
    case 'HoldPosted': {
      const hold = account.holds[event.data.holdId];
      return withHold(
        {
          ...account,
          posted: account.posted - event.data.amount,
          pending: account.pending - event.data.amount,
        },
        event.data.holdId,
        { ...hold, status: 'posted' },
      );
    }
    case 'HoldVoided': {
      const hold = account.holds[event.data.holdId];
      return withHold(
        { ...account, pending: account.pending - event.data.amount },
        event.data.holdId,
        { ...hold, status: 'voided' },
      );
    }
    case 'PostedHoldRefunded': {
      const hold = account.holds[event.data.holdId];
      return withHold(
        { ...account, posted: account.posted + event.data.amount },
        event.data.holdId,
        { ...hold, status: 'voided' },
      );
    }
    case 'VoidedHoldPosted': {
      const hold = account.holds[event.data.holdId];
      return withHold(
        { ...account, posted: account.posted - event.data.amount },
        event.data.holdId,
        { ...hold, status: 'posted' },
      );
    }
  }
}

export function fold(events: readonly AccountEvent[]): AccountState {
  return events.reduce(evolve, initialState);
}
