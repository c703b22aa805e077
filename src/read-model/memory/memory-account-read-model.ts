import { accountStreamName } from '../../accounts/account-id';
import {
  AccountBalance,
  AccountReadModel,
  AccountReadModelChange,
  AccountRebuildSwap,
  BalancePage,
  CurrencyBalances,
  EntryPage,
  ListEntriesQuery,
} from '../../accounts/account-read-model.port';
import { assertLimit } from '../../transactions/read-model.port';
import { swapDecision } from '../rebuild-swap';
import { copyBalance, copyEntry, MemoryAccounts } from './memory-accounts';

/**
 * What survives a MemoryAccountReadModel being dropped, as a file survives a process: the live
 * copy and the one being rebuilt, each with its checkpoint. Several read models may be opened on
 * one storage, like several connections on one SQLite file.
 */
export class MemoryAccountReadModelStorage {
  live = new MemoryAccounts();
  rebuild: MemoryAccounts | null = null;
}

/** By UTF-16 code unit, never by locale: the same order on every machine and every run. */
function byText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function loadFrom(accounts: MemoryAccounts, streamNames: string[]): Map<string, AccountBalance> {
  const loaded = new Map<string, AccountBalance>();
  for (const streamName of streamNames) {
    const balance = accounts.balances.get(streamName);
    if (balance) loaded.set(streamName, copyBalance(balance));
  }
  return loaded;
}

/**
 * The account read model in memory, for the simulator and fast tests; never a product default
 * (no module, no configuration). Each call does its work synchronously, so a commit is atomic,
 * and completes through promise microtasks only. Rows are copied on the way in and out.
 */
export class MemoryAccountReadModel extends AccountReadModel {
  private closed = false;

  constructor(private readonly storage: MemoryAccountReadModelStorage) {
    super();
  }

  async checkpoint(): Promise<bigint | null> {
    return this.open().live.checkpoint;
  }

  async loadBalances(streamNames: string[]): Promise<Map<string, AccountBalance>> {
    return loadFrom(this.open().live, streamNames);
  }

  async commit(change: AccountReadModelChange): Promise<void> {
    this.open().live.write(change);
  }

  async beginRebuild(): Promise<void> {
    this.open().rebuild = new MemoryAccounts();
  }

  async loadRebuildBalances(streamNames: string[]): Promise<Map<string, AccountBalance>> {
    return loadFrom(this.rebuildCopy(), streamNames);
  }

  async commitRebuild(change: AccountReadModelChange): Promise<void> {
    this.rebuildCopy().write(change);
  }

  async finishRebuild(): Promise<AccountRebuildSwap> {
    const storage = this.open();
    const { live, rebuild } = storage;
    const swap = swapDecision(live.checkpoint, rebuild?.checkpoint ?? null);
    if (swap.swapped && rebuild) {
      storage.live = rebuild;
      storage.rebuild = null;
    }
    return swap;
  }

  async abandonRebuild(): Promise<void> {
    this.open().rebuild = null;
  }

  async listAccounts(owner: string): Promise<AccountBalance[]> {
    return [...this.open().live.balances.values()]
      .filter((balance) => balance.owner === owner)
      .sort((a, b) => byText(a.currency, b.currency))
      .map(copyBalance);
  }

  async findAccount(owner: string, currency: string): Promise<AccountBalance | null> {
    const balance = this.open().live.balances.get(accountStreamName(owner, currency));
    return balance ? copyBalance(balance) : null;
  }

  async listEntries({ owner, currency, before, limit }: ListEntriesQuery): Promise<EntryPage> {
    assertLimit(limit);
    const rows = [...this.open().live.entriesOf(accountStreamName(owner, currency))]
      .filter((entry) => before === undefined || entry.revision < before)
      .sort((a, b) => (a.revision === b.revision ? 0 : a.revision > b.revision ? -1 : 1));
    const items = rows.slice(0, limit).map(copyEntry);
    return { items, nextBefore: rows.length > limit ? items[limit - 1].revision : null };
  }

  async scanBalances({ after, limit }: { after?: string; limit: number }): Promise<BalancePage> {
    assertLimit(limit);
    const rows = [...this.open().live.balances.values()]
      .filter((balance) => after === undefined || balance.streamName > after)
      .sort((a, b) => byText(a.streamName, b.streamName));
    const items = rows.slice(0, limit).map(copyBalance);
    return { items, nextAfter: rows.length > limit ? items[limit - 1].streamName : null };
  }

  async currencyBalances(): Promise<CurrencyBalances[]> {
    const sums = new Map<string, CurrencyBalances>();
    for (const balance of this.open().live.balances.values()) {
      let sum = sums.get(balance.currency);
      if (!sum) {
        sum = {
          currency: balance.currency,
          customers: { posted: 0, pending: 0 },
          funding: { posted: 0, pending: 0 },
          clearing: { posted: 0, pending: 0 },
        };
        sums.set(balance.currency, sum);
      }
      sum.customers.posted += balance.posted;
      // The customers' pending leg is a debit: the holds they owe.
      sum.customers.pending -= balance.pending;
      sum.funding.posted += balance.funding.posted;
      sum.funding.pending += balance.funding.pending;
      sum.clearing.posted += balance.clearing.posted;
      sum.clearing.pending += balance.clearing.pending;
    }
    return [...sums.values()].sort((a, b) => byText(a.currency, b.currency));
  }

  /** Only this read model stops answering; the storage and other read models on it go on. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private open(): MemoryAccountReadModelStorage {
    if (this.closed) throw new Error('the account read model is closed');
    return this.storage;
  }

  private rebuildCopy(): MemoryAccounts {
    const { rebuild } = this.open();
    if (rebuild === null) throw new Error('no rebuild of the account balances has begun');
    return rebuild;
  }
}
