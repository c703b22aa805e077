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

/** One value of an id as of one version of its index. */
interface Version<V> {
  at: number;
  value: V;
}

/** Every value each id had, shared by all the indexes of one line of evolution. */
class Timeline<V> {
  readonly byId = new Map<string, Version<V>[]>();
  latest = 0;
}

/**
 * An index from id to value that `evolve` extends in O(1) without copying, while every older
 * index still reads exactly what it read before (a fat-node persistent map). Each index is a
 * version of a shared timeline: it sees the values set at or before its version. Extending the
 * newest version appends to the timeline; extending an older one (a branch: a retry deciding
 * from an earlier state, a test) copies the values it sees first, O(n), which the fold never
 * does. Chosen over copying records (O(n) per event, O(n²) per fold) and over a hash trie
 * (O(log n) per step and far more code): a fold only ever extends its newest state.
 */
export class IdIndex<V> {
  private constructor(
    private readonly timeline: Timeline<V>,
    private readonly version: number,
  ) {}

  static empty<V>(): IdIndex<V> {
    return new IdIndex(new Timeline<V>(), 0);
  }

  get(id: string): V | undefined {
    const versions = this.timeline.byId.get(id);
    if (versions === undefined) return undefined;
    // An id changes a few times at most (a hold: held, settled, reversed), so this scan is short.
    for (let index = versions.length - 1; index >= 0; index--) {
      if (versions[index].at <= this.version) return versions[index].value;
    }
    return undefined;
  }

  /** This index with `id` set to `value`; this one is unchanged. */
  with(id: string, value: V): IdIndex<V> {
    const timeline = this.timeline.latest === this.version ? this.timeline : this.branch();
    const at = this.version + 1;
    const versions = timeline.byId.get(id);
    if (versions === undefined) timeline.byId.set(id, [{ at, value }]);
    else versions.push({ at, value });
    timeline.latest = at;
    return new IdIndex(timeline, at);
  }

  /** Every id this index sees, with its value. */
  entries(): [string, V][] {
    const seen: [string, V][] = [];
    for (const id of this.timeline.byId.keys()) {
      const value = this.get(id);
      if (value !== undefined) seen.push([id, value]);
    }
    return seen;
  }

  /** A new timeline holding what this version sees, for a write that is not at the newest. */
  private branch(): Timeline<V> {
    const timeline = new Timeline<V>();
    for (const [id, value] of this.entries()) {
      timeline.byId.set(id, [{ at: this.version, value }]);
    }
    timeline.latest = this.version;
    return timeline;
  }
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
  deposits: IdIndex<{ amount: number; reference: string }>;
  /** Every overdraft change by id, to recognise a retry. */
  overdraftChanges: IdIndex<number>;
  /** Every hold by id (the transaction id), whatever became of it. */
  holds: IdIndex<Hold>;
}

export type AccountState = { opened: false } | OpenAccount;

export const initialState: AccountState = { opened: false };

/** What the customer may still spend: posted less pending holds, plus the overdraft allowed. */
export function availableBalance(account: OpenAccount): number {
  return account.posted - account.pending + account.overdraftLimit;
}

function withHold(account: OpenAccount, holdId: string, hold: Hold): OpenAccount {
  return { ...account, holds: account.holds.with(holdId, hold) };
}

/** The hold a settling event names: the stream recorded it before, or the stream is broken. */
function recordedHold(account: OpenAccount, event: AccountEvent & { data: { holdId: string } }) {
  const hold = account.holds.get(event.data.holdId);
  if (hold === undefined) throw new Error(`${event.type} of unknown hold ${event.data.holdId}`);
  return hold;
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
      deposits: IdIndex.empty(),
      overdraftChanges: IdIndex.empty(),
      holds: IdIndex.empty(),
    };
  }
  const account = openedOnly(state, event);
  switch (event.type) {
    case 'FundsDeposited': {
      const { depositId, amount, reference } = event.data;
      return {
        ...account,
        posted: account.posted + amount,
        deposits: account.deposits.with(depositId, { amount, reference }),
      };
    }
    case 'OverdraftLimitSet':
      return {
        ...account,
        overdraftLimit: event.data.limit,
        overdraftChanges: account.overdraftChanges.with(event.data.changeId, event.data.limit),
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
      const hold = recordedHold(account, event);
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
      const hold = recordedHold(account, event);
      return withHold(
        { ...account, pending: account.pending - event.data.amount },
        event.data.holdId,
        { ...hold, status: 'voided' },
      );
    }
    case 'PostedHoldRefunded': {
      const hold = recordedHold(account, event);
      return withHold(
        { ...account, posted: account.posted + event.data.amount },
        event.data.holdId,
        { ...hold, status: 'voided' },
      );
    }
    case 'VoidedHoldPosted': {
      const hold = recordedHold(account, event);
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
