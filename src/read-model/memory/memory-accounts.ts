import type {
  AccountBalance,
  AccountEntry,
  AccountReadModelChange,
} from '../../accounts/account-read-model.port';

export function copyBalance(balance: AccountBalance): AccountBalance {
  return { ...balance, funding: { ...balance.funding }, clearing: { ...balance.clearing } };
}

export function copyEntry(entry: AccountEntry): AccountEntry {
  return { ...entry };
}

/**
 * One copy of the account read model (the live one, or one being rebuilt) and its checkpoint.
 * It holds its own copies of the rows: it copies them on the way in, and callers copy what they
 * hand out.
 */
export class MemoryAccounts {
  readonly balances = new Map<string, AccountBalance>();
  /** Per account stream, its entries by entry id. */
  private readonly entries = new Map<string, Map<string, AccountEntry>>();
  checkpoint: bigint | null = null;

  /** Never backwards: a balance at or below the stored revision and a stored entry stay as they are. */
  write(change: AccountReadModelChange): void {
    for (const row of change.rows) {
      if (row.kind === 'balance') {
        const stored = this.balances.get(row.balance.streamName);
        if (stored && stored.revision >= row.balance.revision) continue;
        this.balances.set(row.balance.streamName, copyBalance(row.balance));
      } else {
        const { streamName, entryId } = row.entry;
        const entries = this.entries.get(streamName) ?? new Map<string, AccountEntry>();
        this.entries.set(streamName, entries);
        if (!entries.has(entryId)) entries.set(entryId, copyEntry(row.entry));
      }
    }
    if (this.checkpoint === null || change.checkpoint > this.checkpoint) {
      this.checkpoint = change.checkpoint;
    }
  }

  entriesOf(streamName: string): Iterable<AccountEntry> {
    return this.entries.get(streamName)?.values() ?? [];
  }
}
