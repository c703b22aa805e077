/** The projection's name: its checkpoint's, and the one `npm run projections` takes. */
export const ACCOUNT_BALANCES_PROJECTION = 'account-balances';

/** A balance pair of one ledger account, as its legs sum it (credits positive). */
export interface LegBalance {
  posted: number;
  pending: number;
}

/**
 * One customer account (owner, currency): its stream folded through the domain's `evolve`,
 * with the balances copied out for queries, and the sums of the system legs its events moved
 * (`legsOf`), from which the system accounts' balances are summed per currency.
 */
export interface AccountBalance {
  streamName: string;
  owner: string;
  currency: string;
  /** Revision of the last event applied, to skip an event seen twice. */
  revision: bigint;
  posted: number;
  pending: number;
  available: number;
  overdraftLimit: number;
  /** The legs this account's events put on funding(currency) and clearing(currency). */
  funding: LegBalance;
  clearing: LegBalance;
}

/** The account events that move money; opening, overdraft changes and refusals move none. */
export type AccountEntryKind =
  | 'deposit'
  | 'hold'
  | 'hold_posted'
  | 'hold_voided'
  | 'posted_hold_refunded'
  | 'voided_hold_posted';

/** One line of an account's statement: one money-moving event and the balances after it. */
export interface AccountEntry {
  /** `<stream name>:<revision>`: stable across rebuilds. */
  entryId: string;
  streamName: string;
  owner: string;
  currency: string;
  revision: bigint;
  kind: AccountEntryKind;
  /** Signed from the customer's side: positive credits, negative debits `balance`. */
  amount: number;
  /** The balance the amount moved. */
  balance: 'posted' | 'pending';
  /** The hold id (= transaction id) of a hold event; null for a deposit. */
  transactionId: string | null;
  /** The deposit's reference; null for hold events. */
  reference: string | null;
  at: string;
  postedAfter: number;
  pendingAfter: number;
  availableAfter: number;
}

/** What the projection stores: account rows keyed by stream name, entries by entry id. */
export type AccountReadModelRow =
  { kind: 'balance'; balance: AccountBalance } | { kind: 'entry'; entry: AccountEntry };

export interface AccountReadModelChange {
  rows: AccountReadModelRow[];
  checkpoint: bigint;
}

export interface ListEntriesQuery {
  owner: string;
  currency: string;
  /** Exclusive upper bound on the entry's revision (the cursor). */
  before?: bigint;
  limit: number;
}

export interface EntryPage {
  /** Newest first. */
  items: AccountEntry[];
  /** Revision of the last item when more may follow. */
  nextBefore: bigint | null;
}

/**
 * Per currency, every ledger account's balances as legs (credits positive): the customers'
 * summed (`pending` is minus the holds they owe), funding and provider clearing. Each of
 * posted and pending sums to zero across the three.
 */
export interface CurrencyBalances {
  currency: string;
  customers: LegBalance;
  funding: LegBalance;
  clearing: LegBalance;
}

export interface BalancePage {
  /** Ordered by stream name. */
  items: AccountBalance[];
  /** Stream name of the last item when more may follow. */
  nextAfter: string | null;
}

/** The outcome of finishRebuild: swapped in, or still behind the live projection. */
export type AccountRebuildSwap =
  | { swapped: true; checkpoint: bigint }
  | { swapped: false; rebuildCheckpoint: bigint | null; liveCheckpoint: bigint | null };

/**
 * The accounts' query side (`account_balances`, `account_entries`). The projection's rows and
 * its checkpoint are written together in `commit`, so after a crash it resumes exactly after
 * the last event it applied; a rebuild fills a copy beside the live one and swaps it in, like
 * the transaction summaries (ReadModel).
 */
export abstract class AccountReadModel {
  /** Position of the last event the projection applied, or null if it never ran. */
  abstract checkpoint(): Promise<bigint | null>;

  abstract loadBalances(streamNames: string[]): Promise<Map<string, AccountBalance>>;

  /**
   * Atomic: rows and checkpoint land together or not at all. Never moves backwards: a balance
   * at or below the stored revision is left out, an entry already stored is kept as it is, and
   * the checkpoint only grows.
   */
  abstract commit(change: AccountReadModelChange): Promise<void>;

  /** An empty copy beside the live one, with no checkpoint; discards an unfinished one. */
  abstract beginRebuild(): Promise<void>;

  abstract loadRebuildBalances(streamNames: string[]): Promise<Map<string, AccountBalance>>;

  /** commit on the copy; queries and the live checkpoint are untouched. */
  abstract commitRebuild(change: AccountReadModelChange): Promise<void>;

  /**
   * Atomically replaces the live tables and checkpoint with the copy, only if the copy's
   * checkpoint is at or past the live one; otherwise changes nothing and says how far each is.
   */
  abstract finishRebuild(): Promise<AccountRebuildSwap>;

  abstract abandonRebuild(): Promise<void>;

  /** The owner's accounts, by currency. */
  abstract listAccounts(owner: string): Promise<AccountBalance[]>;

  abstract findAccount(owner: string, currency: string): Promise<AccountBalance | null>;

  /** Newest first. Rejects a limit that is not a positive integer (RangeError). */
  abstract listEntries(query: ListEntriesQuery): Promise<EntryPage>;

  /** Every account, in stream-name order, a page at a time (the audit's comparison). */
  abstract scanBalances(query: { after?: string; limit: number }): Promise<BalancePage>;

  /** Per currency (ordered by code), summed over every account row. */
  abstract currencyBalances(): Promise<CurrencyBalances[]>;

  abstract close(): Promise<void>;
}
