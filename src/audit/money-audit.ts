/**
 * The auditor's proof of the money (issue 13), from the events alone. Each account stream is
 * replayed through the account's own fold while `$all` is read once, in position order; every
 * event's transfer legs (`legsOf`) are checked against what the fold did to the customer, so the
 * system accounts' balances (funding, provider clearing) are computed on the way. Then holds and
 * transactions are matched. Pure: no store, no clock (the caller gives `now`).
 */
import type { RecordedEvent } from '../event-store/event-store.port';
import { accountStreamName } from '../accounts/account-id';
import { Leg, legsOf } from '../accounts/account-legs';
import { toAccountEvent } from '../accounts/account-streams';
import type { AccountEvent } from '../accounts/account.events';
import {
  AccountState,
  Hold,
  OpenAccount,
  availableBalance,
  evolve,
  initialState,
} from '../accounts/account.state';
import { streamNameFor } from '../transactions/transaction-id';
import type { ExistingTransaction, TransactionState } from '../transactions/transaction.state';
import { Difference, chainDifferences } from './stream-audit';

/** One account stream audited up to some event: fold it with `auditAccountEvent`. */
export interface AccountAudit {
  streamName: string;
  events: number;
  nextRevision: bigint;
  lastHash: string | null;
  state: AccountState;
  /** The other legs of this account's transfers, summed: its share of the system accounts. */
  funding: { posted: number };
  clearing: { posted: number; pending: number };
  differences: Difference[];
  exemptions: OverdraftExemption[];
}

/**
 * A `VoidedHoldPosted` that left available below 0: allowed, because the money had already left
 * (support found the payment succeeded after its hold was voided). Reported, not a difference.
 */
export interface OverdraftExemption {
  streamName: string;
  revision: bigint;
  holdId: string;
  amount: number;
  availableAfter: number;
}

/** Not (yet) wrong, but someone may want to look: see `checkFunds`. */
export interface MoneyWarning {
  streamName: string;
  message: string;
}

/**
 * One currency's balances, every account's seen from itself (credits positive, debits negative):
 * a customer's pending is minus the holds it owes. Each pair sums to zero when the money adds up.
 */
export interface CurrencyTotals {
  currency: string;
  accounts: number;
  customers: { posted: number; pending: number };
  funding: { posted: number };
  clearing: { posted: number; pending: number };
}

export function startAccountAudit(streamName: string): AccountAudit {
  return {
    streamName,
    events: 0,
    nextRevision: 0n,
    lastHash: null,
    state: initialState,
    funding: { posted: 0 },
    clearing: { posted: 0, pending: 0 },
    differences: [],
    exemptions: [],
  };
}

/**
 * One more event of the account stream, in revision order. Since every event's legs are checked
 * to move the sum of all balances of its currency by zero, the sum is zero at every position of
 * `$all` (by induction from the empty store), without adding up every account at every position.
 * `legs` is the double-entry table; only a test passes another, to show a wrong one is caught.
 */
export function auditAccountEvent(
  audit: AccountAudit,
  event: RecordedEvent,
  legs: (event: AccountEvent) => Leg[] = legsOf,
): AccountAudit {
  const at = `@${event.revision}`;
  const differences = chainDifferences(audit, event);
  const differ = (field: string, expected: unknown, actual: unknown) =>
    differences.push({ streamName: audit.streamName, field, expected, actual });
  const exemptions: OverdraftExemption[] = [];
  let { state, funding, clearing } = audit;

  const accountEvent = readAccountEvent(event, differ);
  if (accountEvent) {
    const before = state;
    try {
      state = evolve(before, accountEvent);
    } catch (error) {
      differ(`data${at}`, 'readable by this version', (error as Error).message);
    }
    if (state.opened) {
      if (!before.opened && event.streamName !== accountStreamName(state.owner, state.currency)) {
        differ('name', accountStreamName(state.owner, state.currency), event.streamName);
      }
      if (before.opened) {
        const transition = holdTransitionDifference(before, accountEvent);
        if (transition)
          differ(`hold:${transition.holdId}${at}`, transition.expected, transition.actual);
        checkAvailable(before, state, accountEvent, differ, at);
        if (accountEvent.type === 'VoidedHoldPosted' && availableBalance(state) < 0) {
          exemptions.push({
            streamName: audit.streamName,
            revision: event.revision,
            holdId: accountEvent.data.holdId,
            amount: accountEvent.data.amount,
            availableAfter: availableBalance(state),
          });
        }
      }
      const moved = sumLegs(legs(accountEvent));
      const customerPosted = state.posted - (before.opened ? before.posted : 0);
      const customerPending = -(state.pending - (before.opened ? before.pending : 0));
      const postedSum = customerPosted + moved.funding.posted + moved.clearing.posted;
      const pendingSum = customerPending + moved.clearing.pending;
      if (postedSum !== 0) differ(`sum.posted${at}`, 0, postedSum);
      if (pendingSum !== 0) differ(`sum.pending${at}`, 0, pendingSum);
      funding = { posted: funding.posted + moved.funding.posted };
      clearing = {
        posted: clearing.posted + moved.clearing.posted,
        pending: clearing.pending + moved.clearing.pending,
      };
    }
  }
  return {
    ...audit,
    events: audit.events + 1,
    nextRevision: event.revision + 1n,
    lastHash: event.hash,
    state,
    funding,
    clearing,
    differences:
      differences.length > 0 ? [...audit.differences, ...differences] : audit.differences,
    exemptions: exemptions.length > 0 ? [...audit.exemptions, ...exemptions] : audit.exemptions,
  };
}

/** The event as the account code reads it, with its amounts checked, or null (reported). */
function readAccountEvent(
  event: RecordedEvent,
  differ: (field: string, expected: unknown, actual: unknown) => void,
): AccountEvent | null {
  const at = `@${event.revision}`;
  let accountEvent: AccountEvent;
  try {
    accountEvent = toAccountEvent(event);
  } catch (error) {
    differ(`data${at}`, 'readable by this version', (error as Error).message);
    return null;
  }
  // A tampered amount (negative, fractional, a string) would move money the table cannot sum.
  const data = accountEvent.data as Record<string, unknown>;
  if ('amount' in data && !isPositiveSafeInteger(data.amount)) {
    differ(`data.amount${at}`, 'a positive safe integer', data.amount);
    return null;
  }
  return accountEvent;
}

function isPositiveSafeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** The status a hold must have before each hold event; null: the hold must not exist yet. */
const STATUS_BEFORE: Partial<Record<AccountEvent['type'], Hold['status'] | null>> = {
  FundsHeld: null,
  HoldRefused: null,
  HoldPosted: 'held',
  HoldVoided: 'held',
  PostedHoldRefunded: 'posted',
  VoidedHoldPosted: 'voided',
};

/**
 * A hold's life: held or refused once; a held hold posted or voided once, for its amount; a
 * posted one refunded, a voided one posted after all. Anything else (a second `HoldPosted`, a
 * post of a hold never held) would move money no transaction accounts for.
 */
function holdTransitionDifference(
  account: OpenAccount,
  event: AccountEvent,
): { holdId: string; expected: string; actual: string } | null {
  const status = STATUS_BEFORE[event.type];
  if (status === undefined || !('holdId' in event.data)) return null;
  const { holdId, amount } = event.data;
  const hold = account.holds.get(holdId);
  const actual = hold ? describeHold(hold) : 'no hold';
  if (status === null) {
    return hold ? { holdId, expected: `no hold before ${event.type}`, actual } : null;
  }
  if (hold?.status === status && hold.amount === amount) return null;
  return { holdId, expected: `a ${status} hold of ${amount} before ${event.type}`, actual };
}

/**
 * No hold takes available below 0; a refusal records the available balance it was decided on,
 * and that balance did not cover it.
 */
function checkAvailable(
  before: OpenAccount,
  after: AccountState,
  event: AccountEvent,
  differ: (field: string, expected: unknown, actual: unknown) => void,
  at: string,
): void {
  const available = availableBalance(before);
  if (event.type === 'FundsHeld' && after.opened && availableBalance(after) < 0) {
    differ(`available${at}`, `at least ${event.data.amount} for FundsHeld`, available);
  }
  if (event.type === 'HoldRefused') {
    if (event.data.available !== available) {
      differ(`HoldRefused.available${at}`, available, event.data.available);
    }
    if (event.data.amount <= available) {
      differ(`HoldRefused.amount${at}`, `more than available ${available}`, event.data.amount);
    }
  }
}

function sumLegs(legs: Leg[]): Pick<AccountAudit, 'funding' | 'clearing'> {
  const sum = { funding: { posted: 0 }, clearing: { posted: 0, pending: 0 } };
  for (const leg of legs) {
    if (leg.account === 'funding') sum.funding.posted += leg.posted;
    if (leg.account === 'clearing') {
      sum.clearing.posted += leg.posted;
      sum.clearing.pending += leg.pending;
    }
  }
  return sum;
}

function describeHold(hold: Hold): string {
  return `a ${hold.status} hold of ${hold.amount}`;
}

/** Every currency's balances over the audited accounts, by currency code. */
export function currencyTotals(accounts: Iterable<AccountAudit>): CurrencyTotals[] {
  const totals = new Map<string, CurrencyTotals>();
  for (const { state, funding, clearing } of accounts) {
    if (!state.opened) continue;
    const total = totals.get(state.currency) ?? {
      currency: state.currency,
      accounts: 0,
      customers: { posted: 0, pending: 0 },
      funding: { posted: 0 },
      clearing: { posted: 0, pending: 0 },
    };
    totals.set(state.currency, {
      currency: state.currency,
      accounts: total.accounts + 1,
      customers: {
        posted: total.customers.posted + state.posted,
        pending: total.customers.pending - state.pending,
      },
      funding: { posted: total.funding.posted + funding.posted },
      clearing: {
        posted: total.clearing.posted + clearing.posted,
        pending: total.clearing.pending + clearing.pending,
      },
    });
  }
  return [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

/** A transaction as audited: its stream and its folded state. */
export interface AuditedTransaction {
  streamName: string;
  state: TransactionState;
}

/**
 * Holds against transactions, both at the audited head. Every hold names a transaction of the
 * same owner, currency and amount. A SUCCEEDED transaction has its hold posted (net); a FAILED
 * one has it voided (net) or refused, or never had one, and a refusal for insufficient funds is
 * recorded as a `HoldRefused`; a PENDING one has it held or none. Warnings, not differences,
 * for the steps the process manager has still to finish: a final transaction whose hold is still
 * held (settlement pending, with how long the transaction has been final), and a refused hold
 * whose transaction has not recorded the refusal yet.
 */
export function checkFunds(
  transactions: Iterable<AuditedTransaction>,
  accounts: Iterable<AccountAudit>,
  now: Date,
): { differences: Difference[]; warnings: MoneyWarning[] } {
  const differences: Difference[] = [];
  const warnings: MoneyWarning[] = [];
  const byStream = new Map<string, ExistingTransaction>();
  for (const { streamName, state } of transactions) {
    if (state.exists) byStream.set(streamName, state);
  }
  const holds = new Map<string, Hold>();
  for (const { streamName, state } of accounts) {
    if (!state.opened) continue;
    for (const [holdId, hold] of state.holds.entries()) {
      const transaction = byStream.get(streamNameFor(holdId));
      const expected = `a transaction of ${state.owner} for ${hold.amount} ${state.currency}`;
      if (!transaction) {
        differences.push({ streamName, field: `hold:${holdId}`, expected, actual: null });
        continue;
      }
      const { owner, request } = transaction;
      const actual = `a transaction of ${owner} for ${request.amount} ${request.currency}`;
      if (actual !== expected) {
        differences.push({ streamName, field: `hold:${holdId}`, expected, actual });
      }
      if (streamName === accountStreamName(owner, request.currency)) holds.set(holdId, hold);
    }
  }

  for (const [streamName, transaction] of byStream) {
    const hold = holds.get(transaction.transactionId);
    const actual = hold ? describeHold(hold) : 'no hold';
    const differ = (expected: string) =>
      differences.push({ streamName, field: 'funds', expected, actual });
    const { amount } = transaction.request;
    switch (transaction.status) {
      case 'SUCCEEDED':
        if (hold?.status === 'held') warnings.push(settlementPending(streamName, transaction, now));
        else if (hold?.status !== 'posted') differ(`a posted hold of ${amount}`);
        break;
      case 'FAILED':
        if (transaction.failureReason === 'insufficient_funds') {
          if (hold?.status !== 'refused') differ(`a refused hold of ${amount}`);
        } else if (hold?.status === 'held') {
          warnings.push(settlementPending(streamName, transaction, now));
        } else if (hold?.status === 'posted') {
          differ(`a voided or refused hold of ${amount}, or none`);
        }
        break;
      case 'PENDING':
        if (hold?.status === 'refused') {
          warnings.push({
            streamName,
            message: 'refusal pending: the hold was refused, the transaction is still PENDING',
          });
        } else if (hold && hold.status !== 'held') {
          differ(`a held hold of ${amount}, or none`);
        }
        break;
    }
  }
  return { differences, warnings };
}

function settlementPending(
  streamName: string,
  transaction: ExistingTransaction,
  now: Date,
): MoneyWarning {
  const finalizedAt = transaction.finalizedAt ?? transaction.updatedAt;
  const seconds = Math.round((now.getTime() - Date.parse(finalizedAt)) / 1000);
  return {
    streamName,
    message: `settlement pending: ${transaction.status} for ${seconds} s, its hold still held`,
  };
}
