import type { TransactionState } from '../transactions/transaction.decider';

/**
 * One row of the transaction summary projection: the stream folded through `evolve`.
 * streamName, owner, clientId and requestedPosition are fixed by the stream's first event, and
 * (owner, clientId) identifies one stream.
 */
export interface TransactionSummary {
  streamName: string;
  owner: string;
  clientId: string;
  status: string;
  /** Global position of TransactionRequested: orders the owner's list newest first. */
  requestedPosition: bigint;
  /** Revision of the last event applied, to skip an event seen twice. */
  revision: bigint;
  state: TransactionState;
}

export interface SummaryPage {
  items: TransactionSummary[];
  /** requestedPosition of the last item when more may follow. */
  nextBefore: bigint | null;
}

export interface ListSummariesQuery {
  owner: string;
  status?: string;
  /** Exclusive upper bound on requestedPosition (the cursor). */
  before?: bigint;
  limit: number;
}

/**
 * The query side's store. A projection's rows and its checkpoint are written together in
 * `commit`, so that after a crash a projection resumes exactly after the last event it applied.
 */
export abstract class ReadModel {
  /** Position of the last event the projection applied, or null if it never ran. */
  abstract checkpoint(projection: string): Promise<bigint | null>;

  abstract loadSummaries(streamNames: string[]): Promise<Map<string, TransactionSummary>>;

  /**
   * Atomic: the upserts and the new checkpoint land together or not at all. Rejects the whole
   * change if a summary alters its stream's fixed fields or claims another stream's
   * (owner, clientId).
   */
  abstract commit(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void>;

  abstract findSummary(owner: string, clientId: string): Promise<TransactionSummary | null>;

  /** Rejects a limit that is not a positive integer (RangeError) rather than choose one. */
  abstract listSummaries(query: ListSummariesQuery): Promise<SummaryPage>;

  abstract ping(): Promise<void>;

  abstract close(): Promise<void>;
}
