import {
  ListSummariesQuery,
  ReadModel,
  ReconciliationQueuePage,
  ReconciliationQueueQuery,
  RebuildSwap,
  SearchSummariesQuery,
  SummaryPage,
  SummaryStatistics,
  TransactionSummary,
} from '../../transactions/read-model.port';
import { SUMMARY_PROJECTION } from '../../transactions/transaction-summary.projection';
import { swapDecision } from '../rebuild-swap';
import { summaryStatistics } from '../summary-statistics';
import { copyOf, MemorySummaries } from './memory-summaries';
import {
  listSummariesPage,
  reconciliationQueuePage,
  reconciliationQueueSize,
  searchSummariesPage,
} from './memory-summary-queries';

type CommitChange = { summaries: TransactionSummary[]; checkpoint: bigint };

/** A copy being rebuilt beside the live summaries, with its own checkpoint. */
interface RebuildCopy {
  summaries: MemorySummaries;
  checkpoint: bigint | null;
}

/**
 * What survives a MemoryReadModel being dropped, as a file or database survives a process: the
 * live summaries, every projection's checkpoint, and the copy being rebuilt. Several read models
 * may be opened on one storage, like several connections on one SQLite file.
 */
export class MemoryReadModelStorage {
  live = new MemorySummaries();
  readonly checkpoints = new Map<string, bigint>();
  rebuild: RebuildCopy | null = null;
}

function advanceCheckpoint(checkpoint: bigint | null, to: bigint): bigint {
  return checkpoint !== null && checkpoint > to ? checkpoint : to;
}

function assertRebuildable(projection: string): void {
  if (projection !== SUMMARY_PROJECTION) {
    throw new Error(`the read model has no rebuildable copy for projection "${projection}"`);
  }
}

/**
 * The transaction read model in memory, for the simulator and fast tests; never a product
 * default (no module, no configuration). Each call does its work synchronously, so a commit is
 * atomic, and completes through promise microtasks only. Summaries are copied on the way in and
 * out: a caller changing what it passed or got back never changes the store.
 */
export class MemoryReadModel extends ReadModel {
  private closed = false;
  /** The copy this read model's beginRebuild created, until it is swapped in or abandoned. */
  private begun: RebuildCopy | null = null;

  constructor(private readonly storage: MemoryReadModelStorage) {
    super();
  }

  async checkpoint(projection: string): Promise<bigint | null> {
    return this.open().checkpoints.get(projection) ?? null;
  }

  async loadSummaries(streamNames: string[]): Promise<Map<string, TransactionSummary>> {
    return loadFrom(this.open().live, streamNames);
  }

  async commit(projection: string, change: CommitChange): Promise<void> {
    const { live, checkpoints } = this.open();
    live.write(change.summaries);
    const checkpoint = checkpoints.get(projection) ?? null;
    checkpoints.set(projection, advanceCheckpoint(checkpoint, change.checkpoint));
  }

  async beginRebuild(projection: string): Promise<void> {
    const storage = this.open();
    assertRebuildable(projection);
    this.begun = { summaries: new MemorySummaries(), checkpoint: null };
    storage.rebuild = this.begun;
  }

  async loadRebuildSummaries(
    projection: string,
    streamNames: string[],
  ): Promise<Map<string, TransactionSummary>> {
    return loadFrom(this.begunRebuild(projection).summaries, streamNames);
  }

  async commitRebuild(projection: string, change: CommitChange): Promise<void> {
    const copy = this.begunRebuild(projection);
    copy.summaries.write(change.summaries);
    copy.checkpoint = advanceCheckpoint(copy.checkpoint, change.checkpoint);
  }

  async finishRebuild(projection: string): Promise<RebuildSwap> {
    const copy = this.begunRebuild(projection);
    const storage = this.storage;
    const swap = swapDecision(storage.checkpoints.get(projection) ?? null, copy.checkpoint);
    if (swap.swapped) {
      storage.live = copy.summaries;
      storage.checkpoints.set(projection, swap.checkpoint);
      storage.rebuild = null;
      this.begun = null;
    }
    return swap;
  }

  async abandonRebuild(projection: string): Promise<void> {
    const storage = this.open();
    assertRebuildable(projection);
    // The copy begun here, or the one a crashed run left; never a newer one that replaced ours.
    if (this.begun === null || storage.rebuild === this.begun) storage.rebuild = null;
    this.begun = null;
  }

  async findSummary(owner: string, clientId: string): Promise<TransactionSummary | null> {
    const summary = this.open().live.findByClientId(owner, clientId);
    return summary ? copyOf(summary) : null;
  }

  async listSummaries(query: ListSummariesQuery): Promise<SummaryPage> {
    return copyPage(listSummariesPage(this.open().live.all(), query));
  }

  async findSummaryByTransactionId(transactionId: string): Promise<TransactionSummary | null> {
    const summary = this.open().live.findByTransactionId(transactionId);
    return summary ? copyOf(summary) : null;
  }

  async searchSummaries(query: SearchSummariesQuery): Promise<SummaryPage> {
    return copyPage(searchSummariesPage(this.open().live.all(), query));
  }

  async reconciliationQueue(query: ReconciliationQueueQuery): Promise<ReconciliationQueuePage> {
    const page = reconciliationQueuePage(this.open().live.all(), query);
    return {
      items: page.items.map(({ summary, reason }) => ({ summary: copyOf(summary), reason })),
      nextAfter: page.nextAfter,
    };
  }

  async reconciliationQueueSize(pendingRequestedBefore: string): Promise<number> {
    return reconciliationQueueSize(this.open().live.all(), pendingRequestedBefore);
  }

  async summaryStatistics(): Promise<SummaryStatistics> {
    return summaryStatistics(this.open().live.all());
  }

  async ping(): Promise<void> {
    this.open();
  }

  /** Only this read model stops answering; the storage and other read models on it go on. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private open(): MemoryReadModelStorage {
    if (this.closed) throw new Error('the read model is closed');
    return this.storage;
  }

  /** The copy begun here, unless another read model on the storage has begun one since. */
  private begunRebuild(projection: string): RebuildCopy {
    const storage = this.open();
    assertRebuildable(projection);
    if (!this.begun) throw new Error(`no rebuild of ${projection} was begun here`);
    if (storage.rebuild !== this.begun) {
      throw new Error(`the rebuild of ${projection} begun here was replaced or abandoned`);
    }
    return this.begun;
  }
}

function loadFrom(
  summaries: MemorySummaries,
  streamNames: string[],
): Map<string, TransactionSummary> {
  const loaded = new Map<string, TransactionSummary>();
  for (const streamName of streamNames) {
    const summary = summaries.get(streamName);
    if (summary) loaded.set(streamName, copyOf(summary));
  }
  return loaded;
}

function copyPage(page: SummaryPage): SummaryPage {
  return { items: page.items.map(copyOf), nextBefore: page.nextBefore };
}
