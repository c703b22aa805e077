/**
 * The account's decisions: `decide` turns a command and the current state into new events. Pure:
 * times arrive inside commands. Every command is idempotent by its id: the same id with the same
 * body appends nothing, with a different body it is refused. Events, commands, state and
 * `evolve` live in the files beside it.
 */

import type {
  AccountCommand,
  Deposit,
  PlaceHold,
  PostHold,
  ReverseHold,
  SetOverdraftLimit,
  VoidHold,
} from './account.commands';
import {
  AccountCommandIdReusedError,
  HoldAlreadySettledError,
  HoldNotExpiredError,
  HoldNotFoundError,
  HoldNotSettledError,
  InvalidAmountError,
} from './account.errors';
import type { AccountEvent, AccountOpened } from './account.events';
import { availableBalance, evolve, initialState } from './account.state';
import type { AccountState, OpenAccount } from './account.state';

/** Whole minor units: an amount a ledger can add up exactly in a JavaScript number. */
function checkAmount(name: string, value: number, { zeroAllowed = false } = {}): void {
  if (!Number.isSafeInteger(value) || value < (zeroAllowed ? 0 : 1)) {
    throw new InvalidAmountError(
      `${name} must be a whole number of minor units, ${zeroAllowed ? 'zero or more' : 'at least 1'}`,
    );
  }
}

/** The account the command names, as it stands or as its opening would make it. */
function accountFor(command: AccountCommand, state: AccountState): [OpenAccount, AccountEvent[]] {
  if (state.opened) return [state, []];
  const opened: AccountOpened = {
    type: 'AccountOpened',
    data: { owner: command.owner, currency: command.currency, openedAt: command.at },
  };
  return [evolve(initialState, opened) as OpenAccount, [opened]];
}

function deposit(command: Deposit, state: AccountState): AccountEvent[] {
  const { depositId, amount, reference, at } = command;
  checkAmount('amount', amount);
  const [account, opening] = accountFor(command, state);
  const known = account.deposits.get(depositId);
  if (known) {
    if (known.amount === amount && known.reference === reference) return [];
    throw new AccountCommandIdReusedError('Deposit', depositId);
  }
  if (!Number.isSafeInteger(account.posted + amount)) {
    throw new InvalidAmountError('amount would take the balance beyond what can be counted');
  }
  return [...opening, { type: 'FundsDeposited', data: { depositId, amount, reference, at } }];
}

function setOverdraftLimit(command: SetOverdraftLimit, state: AccountState): AccountEvent[] {
  const { changeId, limit, at } = command;
  checkAmount('limit', limit, { zeroAllowed: true });
  const [account, opening] = accountFor(command, state);
  const known = account.overdraftChanges.get(changeId);
  if (known !== undefined) {
    if (known === limit) return [];
    throw new AccountCommandIdReusedError('Overdraft change', changeId);
  }
  return [...opening, { type: 'OverdraftLimitSet', data: { changeId, limit, at } }];
}

/**
 * A hold is decided against the available balance at this revision; the write path appends with
 * that revision, so two holds decided on the same balance cannot both land.
 */
function placeHold(command: PlaceHold, state: AccountState): AccountEvent[] {
  const { holdId, amount, expiresAt, at } = command;
  checkAmount('amount', amount);
  const [account, opening] = accountFor(command, state);
  const known = account.holds.get(holdId);
  if (known) {
    // The expiry is computed from the time of each try, so only the amount identifies the hold.
    if (known.amount === amount) return [];
    throw new AccountCommandIdReusedError('Hold', holdId);
  }
  const available = availableBalance(account);
  if (amount > available) {
    return [
      ...opening,
      {
        type: 'HoldRefused',
        data: { holdId, amount, reason: 'insufficient_funds', available, at },
      },
    ];
  }
  return [...opening, { type: 'FundsHeld', data: { holdId, amount, expiresAt, at } }];
}

/** A hold this account placed: unknown and refused holds have nothing to settle or reverse. */
function placedHold(state: AccountState, holdId: string) {
  const hold = state.opened ? state.holds.get(holdId) : undefined;
  if (!hold || hold.status === 'refused') throw new HoldNotFoundError(holdId);
  return hold;
}

function postHold({ holdId, at }: PostHold, state: AccountState): AccountEvent[] {
  const hold = placedHold(state, holdId);
  if (hold.status === 'posted') return [];
  if (hold.status === 'voided') throw new HoldAlreadySettledError(holdId, 'voided');
  return [{ type: 'HoldPosted', data: { holdId, amount: hold.amount, at } }];
}

function voidHold({ holdId, reason, at }: VoidHold, state: AccountState): AccountEvent[] {
  const hold = placedHold(state, holdId);
  if (hold.status === 'voided') return [];
  if (hold.status === 'posted') throw new HoldAlreadySettledError(holdId, 'posted');
  if (
    reason === 'expired' &&
    hold.expiresAt !== null &&
    Date.parse(at) < Date.parse(hold.expiresAt)
  ) {
    throw new HoldNotExpiredError(holdId, hold.expiresAt);
  }
  return [{ type: 'HoldVoided', data: { holdId, amount: hold.amount, reason, at } }];
}

/**
 * Support's resolution contradicts how the hold was settled: a posted hold is refunded, or a
 * voided one is taken after all (even below the overdraft: the money already left). Idempotent
 * by its target: a hold already there records nothing.
 */
function reverseHold({ holdId, to, reason, at }: ReverseHold, state: AccountState): AccountEvent[] {
  const hold = placedHold(state, holdId);
  if (hold.status === to) return [];
  if (hold.status === 'held') throw new HoldNotSettledError(holdId);
  const data = { holdId, amount: hold.amount, reason, at };
  return [
    to === 'voided' ? { type: 'PostedHoldRefunded', data } : { type: 'VoidedHoldPosted', data },
  ];
}

export function decide(command: AccountCommand, state: AccountState): AccountEvent[] {
  switch (command.type) {
    case 'Deposit':
      return deposit(command, state);
    case 'SetOverdraftLimit':
      return setOverdraftLimit(command, state);
    case 'PlaceHold':
      return placeHold(command, state);
    case 'PostHold':
      return postHold(command, state);
    case 'VoidHold':
      return voidHold(command, state);
    case 'ReverseHold':
      return reverseHold(command, state);
  }
}
