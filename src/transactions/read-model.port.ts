import type { TransactionState } from './transaction.state';

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

/** Support's search: every filter is optional and they combine with AND. */
export interface SearchSummariesQuery {
  status?: string;
  stage?: string;
  owner?: string;
  clientId?: string;
  transactionId?: string;
  /** Inclusive lower bound on state.requestedAt, an ISO 8601 UTC timestamp (toISOString). */
  requestedFrom?: string;
  /** Exclusive upper bound on state.requestedAt, same format. */
  requestedTo?: string;
  /** Exclusive upper bound on requestedPosition (the cursor). */
  before?: bigint;
  limit: number;
}

/**
 * Why a transaction is in the reconciliation queue: the domain opened a case for it
 * (state.reconciliation), or it has been pending longer than the configured age.
 */
export type QueueReason = 'needs_reconciliation' | 'pending_too_long';

export interface ReconciliationQueueQuery {
  /** ISO 8601 UTC: a PENDING transaction requested before this is pending too long. */
  pendingRequestedBefore: string;
  /** Exclusive lower bound on requestedPosition (the cursor). */
  after?: bigint;
  limit: number;
}

export interface ReconciliationQueueItem {
  summary: TransactionSummary;
  reason: QueueReason;
}

export interface ReconciliationQueuePage {
  /** Oldest first. */
  items: ReconciliationQueueItem[];
  /** requestedPosition of the last item when more may follow. */
  nextAfter: bigint | null;
}

/** Time to final status, requestedAt to finalizedAt; `belowSeconds` null is the open last one. */
export interface TimeToFinalBucket {
  belowSeconds: number | null;
  count: number;
}

export interface SummaryStatistics {
  transactions: number;
  byStatus: Record<string, number>;
  byStage: Record<string, number>;
  /** Every bucket of TIME_TO_FINAL_BUCKET_BOUNDS, in order, empty ones included. */
  timeToFinal: TimeToFinalBucket[];
  statusChecks: { total: number; mean: number; max: number };
  /** Key: number of provider submission attempts; value: transactions with that many. */
  providerAttempts: Record<string, number>;
  /** Key: who gave the final status (StatusSource); final transactions only. */
  finalStatusSources: Record<string, number>;
}

/** Upper bounds (exclusive, seconds) of the time-to-final histogram; a last bucket takes the rest. */
export const TIME_TO_FINAL_BUCKET_BOUNDS: readonly number[] = [1, 5, 15, 60, 300, 900];

/** The rule of every query with a limit: a bad limit is refused (RangeError), never replaced. */
export function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }
}

/** The outcome of finishRebuild: swapped in, or still behind the live projection. */
export type RebuildSwap =
  | { swapped: true; checkpoint: bigint }
  | { swapped: false; rebuildCheckpoint: bigint | null; liveCheckpoint: bigint | null };

/**
 * The query side's store. A projection's rows and its checkpoint are written together in
 * `commit`, so that after a crash a projection resumes exactly after the last event it applied.
 *
 * A projection can also be rebuilt beside the live copy while queries and the live projection
 * carry on: beginRebuild, then loadRebuildSummaries/commitRebuild from position 0 up to the head,
 * then finishRebuild swaps the copy in. Only one rebuild of a projection runs at a time.
 */
export abstract class ReadModel {
  /** Position of the last event the projection applied, or null if it never ran. */
  abstract checkpoint(projection: string): Promise<bigint | null>;

  abstract loadSummaries(streamNames: string[]): Promise<Map<string, TransactionSummary>>;

  /**
   * Atomic: the upserts and the new checkpoint land together or not at all. Rejects the whole
   * change if a summary alters its stream's fixed fields or claims another stream's
   * (owner, clientId). Never moves backwards: a summary older (lower revision) than the stored
   * one is left out, and the checkpoint only ever grows. A live projection that was behind a
   * rebuild swapped in under it therefore re-applies nothing and loses nothing.
   */
  abstract commit(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void>;

  /**
   * Starts a rebuild of `projection`: an empty copy beside the live one, with no checkpoint.
   * Discards what an earlier, unfinished rebuild left behind.
   */
  abstract beginRebuild(projection: string): Promise<void>;

  /** loadSummaries on the copy being rebuilt. */
  abstract loadRebuildSummaries(
    projection: string,
    streamNames: string[],
  ): Promise<Map<string, TransactionSummary>>;

  /** commit on the copy being rebuilt; queries and the live checkpoint are untouched. */
  abstract commitRebuild(
    projection: string,
    change: { summaries: TransactionSummary[]; checkpoint: bigint },
  ): Promise<void>;

  /**
   * Atomically replaces the live copy and its checkpoint with the rebuilt ones, but only if the
   * rebuilt checkpoint is at or past the live one: otherwise the live projection would skip the
   * events in between. When behind, changes nothing and says how far the live one is, so the
   * caller catches up further and tries again.
   */
  abstract finishRebuild(projection: string): Promise<RebuildSwap>;

  /** Drops an unfinished rebuild's copy (a failed or interrupted run). */
  abstract abandonRebuild(projection: string): Promise<void>;

  abstract findSummary(owner: string, clientId: string): Promise<TransactionSummary | null>;

  /** Rejects a limit that is not a positive integer (RangeError) rather than choose one. */
  abstract listSummaries(query: ListSummariesQuery): Promise<SummaryPage>;

  abstract findSummaryByTransactionId(transactionId: string): Promise<TransactionSummary | null>;

  /** Newest first across every owner. Rejects a bad limit like listSummaries. */
  abstract searchSummaries(query: SearchSummariesQuery): Promise<SummaryPage>;

  /**
   * Oldest first: transactions with an open reconciliation case, and PENDING ones requested
   * before the cutoff. The cutoff is a query parameter because "too long" depends on when
   * one asks; it is not a stored fact. Rejects a bad limit like listSummaries.
   */
  abstract reconciliationQueue(query: ReconciliationQueueQuery): Promise<ReconciliationQueuePage>;

  /**
   * How many transactions `reconciliationQueue` lists for this cutoff, counted by the store
   * without reading them.
   */
  abstract reconciliationQueueSize(pendingRequestedBefore: string): Promise<number>;

  abstract summaryStatistics(): Promise<SummaryStatistics>;

  abstract ping(): Promise<void>;

  abstract close(): Promise<void>;
}
