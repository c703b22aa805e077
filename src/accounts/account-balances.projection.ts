import { Injectable } from '@nestjs/common';
import type { RecordedEvent } from '../event-store/event-store.port';
import { HostedProjection } from '../projections/hosted-projection';
import type { Projection } from '../projections/projection-runner';
import { legsOf, type Leg, type LedgerAccount } from './account-legs';
import {
  ACCOUNT_BALANCES_PROJECTION,
  AccountBalance,
  AccountEntry,
  AccountEntryKind,
  AccountReadModel,
  AccountReadModelRow,
  LegBalance,
} from './account-read-model.port';
import { isAccountStreamEvent, toAccountEvent } from './account-streams';
import type { AccountEvent } from './account.events';

/** The key of an entry row: its stream and revision, so a rebuild gives it the same id. */
export function entryIdOf(event: Pick<RecordedEvent, 'streamName' | 'revision'>): string {
  return `${event.streamName}:${event.revision}`;
}

function addLegs(balance: LegBalance, legs: Leg[], account: LedgerAccount): LegBalance {
  return legs
    .filter((leg) => leg.account === account)
    .reduce(
      (sum, leg) => ({ posted: sum.posted + leg.posted, pending: sum.pending + leg.pending }),
      balance,
    );
}

/** Which balance the entry moved, and by how much, signed from the customer's side. */
function entryMovement(
  event: AccountEvent,
): { kind: AccountEntryKind; amount: number; balance: 'posted' | 'pending' } | null {
  switch (event.type) {
    case 'FundsDeposited':
      return { kind: 'deposit', amount: event.data.amount, balance: 'posted' };
    case 'FundsHeld':
      return { kind: 'hold', amount: -event.data.amount, balance: 'pending' };
    case 'HoldPosted':
      return { kind: 'hold_posted', amount: -event.data.amount, balance: 'posted' };
    case 'HoldVoided':
      return { kind: 'hold_voided', amount: event.data.amount, balance: 'pending' };
    case 'PostedHoldRefunded':
      return { kind: 'posted_hold_refunded', amount: event.data.amount, balance: 'posted' };
    case 'VoidedHoldPosted':
      return { kind: 'voided_hold_posted', amount: -event.data.amount, balance: 'posted' };
    case 'AccountOpened':
    case 'OverdraftLimitSet':
    case 'HoldRefused':
      return null;
  }
}

function entryOf(
  event: RecordedEvent,
  accountEvent: AccountEvent,
  balance: AccountBalance,
): AccountEntry | null {
  const movement = entryMovement(accountEvent);
  if (!movement) return null;
  const data = accountEvent.data as { at: string; holdId?: string; reference?: string };
  return {
    entryId: entryIdOf(event),
    streamName: event.streamName,
    owner: balance.owner,
    currency: balance.currency,
    revision: event.revision,
    ...movement,
    transactionId: data.holdId ?? null,
    reference: data.reference ?? null,
    at: data.at,
    postedAfter: balance.posted,
    pendingAfter: balance.pending,
    availableAfter: balance.available,
  };
}

export interface ProjectedAccountEvent {
  balance: AccountBalance;
  /** Null when the event moved no money. */
  entry: AccountEntry | null;
}

const ZERO: LegBalance = { posted: 0, pending: 0 };

/**
 * Pure: the account row after one more event, and the entry the event adds. Every balance is the
 * sum of the domain's own legs (`legsOf`, the table the audit applies, whose spec holds it to
 * the account's `evolve`): the customer's leg moves its posted balance and the holds it owes,
 * the others the system accounts. No hold-by-hold state is kept, so a row stays small however
 * many payments the account makes. An event at or below the row's revision was already applied:
 * null, nothing changes.
 */
export function projectAccountEvent(
  balance: AccountBalance | undefined,
  event: RecordedEvent,
): ProjectedAccountEvent | null {
  if (balance && event.revision <= balance.revision) return null;
  const accountEvent = toAccountEvent(event);
  if (accountEvent.type === 'AccountOpened') {
    if (balance) return null;
    const opened = row(event, accountEvent.data.owner, accountEvent.data.currency);
    return { balance: opened, entry: null };
  }
  if (!balance) return null;
  const legs = legsOf(accountEvent);
  const customer = addLegs(ZERO, legs, 'customer');
  const overdraftLimit =
    accountEvent.type === 'OverdraftLimitSet' ? accountEvent.data.limit : balance.overdraftLimit;
  const posted = balance.posted + customer.posted;
  const pending = balance.pending - customer.pending;
  const next: AccountBalance = {
    ...balance,
    revision: event.revision,
    posted,
    pending,
    available: posted - pending + overdraftLimit,
    overdraftLimit,
    funding: addLegs(balance.funding, legs, 'funding'),
    clearing: addLegs(balance.clearing, legs, 'clearing'),
  };
  return { balance: next, entry: entryOf(event, accountEvent, next) };
}

function row(event: RecordedEvent, owner: string, currency: string): AccountBalance {
  return {
    streamName: event.streamName,
    owner,
    currency,
    revision: event.revision,
    posted: 0,
    pending: 0,
    available: 0,
    overdraftLimit: 0,
    funding: ZERO,
    clearing: ZERO,
  };
}

/** The key of a row: an account's stream name, or an entry's id. */
export function rowKey(row: AccountReadModelRow): string {
  return row.kind === 'balance' ? row.balance.streamName : row.entry.entryId;
}

/**
 * Pure: the rows that `events` change or add, keyed by rowKey, given each touched account's
 * row before (absent for an account with none yet). The live projection and the rebuild share it.
 */
export function projectAccountRows(
  events: readonly RecordedEvent[],
  before: Pick<ReadonlyMap<string, AccountReadModelRow>, 'get'>,
): Map<string, AccountReadModelRow> {
  const changed = new Map<string, AccountReadModelRow>();
  for (const event of events) {
    if (!isAccountStreamEvent(event)) continue;
    const current = changed.get(event.streamName) ?? before.get(event.streamName);
    const projected = projectAccountEvent(
      current?.kind === 'balance' ? current.balance : undefined,
      event,
    );
    if (!projected) continue;
    changed.set(event.streamName, { kind: 'balance', balance: projected.balance });
    if (projected.entry)
      changed.set(projected.entry.entryId, { kind: 'entry', entry: projected.entry });
  }
  return changed;
}

/** The account streams a batch touches. */
export function accountStreamsOf(events: readonly RecordedEvent[]): string[] {
  return [...new Set(events.filter(isAccountStreamEvent).map((event) => event.streamName))];
}

/** Stored balances as the rows `projectAccountRows` reads. */
export function asBalanceRows(
  balances: ReadonlyMap<string, AccountBalance>,
): Map<string, AccountReadModelRow> {
  return new Map(
    [...balances].map(([key, balance]): [string, AccountReadModelRow] => [
      key,
      { kind: 'balance', balance },
    ]),
  );
}

@Injectable()
@HostedProjection()
export class AccountBalancesProjection implements Projection {
  readonly name = ACCOUNT_BALANCES_PROJECTION;

  constructor(private readonly readModel: AccountReadModel) {}

  checkpoint(): Promise<bigint | null> {
    return this.readModel.checkpoint();
  }

  async apply(events: RecordedEvent[], checkpoint: bigint): Promise<void> {
    const before = await this.readModel.loadBalances(accountStreamsOf(events));
    const rows = projectAccountRows(events, asBalanceRows(before));
    await this.readModel.commit({ rows: [...rows.values()], checkpoint });
  }
}
