import type { TransactionSummary } from '../../transactions/read-model.port';
import type { TransactionState } from '../../transactions/transaction.state';
import { commitRejected, summariesToWrite } from '../summary-commits';

/** One key per (owner, clientId) pair: JSON keeps two pairs from ever joining into one string. */
function clientKey(owner: string, clientId: string): string {
  return JSON.stringify([owner, clientId]);
}

function transactionIdOf(summary: TransactionSummary): string | null {
  return summary.state.exists ? summary.state.transactionId : null;
}

/**
 * One copy of the transaction summaries (the live one, or one being rebuilt), with the lookups
 * the queries use. It holds its own copies of the summaries: it copies them on the way in, and
 * callers copy what they hand out (`copyOf`).
 */
export class MemorySummaries {
  private readonly byStream = new Map<string, TransactionSummary>();
  private readonly streamByClientKey = new Map<string, string>();
  private readonly streamByTransactionId = new Map<string, string>();

  get(streamName: string): TransactionSummary | undefined {
    return this.byStream.get(streamName);
  }

  findByClientId(owner: string, clientId: string): TransactionSummary | undefined {
    const streamName = this.streamByClientKey.get(clientKey(owner, clientId));
    return streamName === undefined ? undefined : this.byStream.get(streamName);
  }

  findByTransactionId(transactionId: string): TransactionSummary | undefined {
    const streamName = this.streamByTransactionId.get(transactionId);
    return streamName === undefined ? undefined : this.byStream.get(streamName);
  }

  all(): IterableIterator<TransactionSummary> {
    return this.byStream.values();
  }

  /**
   * All or nothing: every summary is judged before any is stored. Leaves out a summary older than
   * the stored one; throws when one changes its stream's fixed fields or claims the
   * (owner, clientId) of another stream, here or earlier in the same change.
   */
  write(summaries: readonly TransactionSummary[]): void {
    const stored = summaries.flatMap((summary) => this.byStream.get(summary.streamName) ?? []);
    const toWrite = summariesToWrite(stored, summaries);
    const claims = new Map<string, string>();
    for (const summary of toWrite) {
      const key = clientKey(summary.owner, summary.clientId);
      const holder = claims.get(key) ?? this.streamByClientKey.get(key);
      if (holder !== undefined && holder !== summary.streamName) {
        throw commitRejected(`${summary.streamName} claims the owner and client id of ${holder}`);
      }
      claims.set(key, summary.streamName);
    }
    for (const summary of toWrite) this.store(copyOf(summary));
  }

  private store(summary: TransactionSummary): void {
    const previous = this.byStream.get(summary.streamName);
    const previousId = previous && transactionIdOf(previous);
    if (previousId && this.streamByTransactionId.get(previousId) === summary.streamName) {
      this.streamByTransactionId.delete(previousId);
    }
    this.byStream.set(summary.streamName, summary);
    this.streamByClientKey.set(clientKey(summary.owner, summary.clientId), summary.streamName);
    const transactionId = transactionIdOf(summary);
    if (transactionId !== null) this.streamByTransactionId.set(transactionId, summary.streamName);
  }
}

/**
 * A copy that shares nothing with the original. The state goes through JSON, as it does in the
 * SQLite and MongoDB adapters, so it comes back exactly as they would return it.
 */
export function copyOf(summary: TransactionSummary): TransactionSummary {
  return { ...summary, state: JSON.parse(JSON.stringify(summary.state)) as TransactionState };
}
