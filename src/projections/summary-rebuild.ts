import { performance } from 'node:perf_hooks';
import type { EventStore, RecordedEvent } from '../event-store/event-store.port';
import type { ReadModel, TransactionSummary } from '../read-model/read-model.port';
import {
  isTransactionStreamEvent,
  projectTransactionSummary,
} from '../transactions/transaction-summary.projection';

export const SUMMARY_PROJECTION = 'transaction-summaries';

export interface RebuildProgress {
  /** Last position applied to the copy. */
  position: bigint;
  /** Head of `$all` when this page was read; it moves on under live traffic. */
  head: bigint;
  /** Events applied so far. */
  events: number;
}

export interface RebuildOptions {
  /**
   * Events per commit. Large commits are what makes a rebuild fast (about 55k events/s at 1,000
   * per commit, 150k at 5,000 to 10,000); each one holds the file's write lock only briefly.
   */
  batchEvents?: number;
  /**
   * Summaries kept in memory between batches (most recently changed first), each written to the
   * copy once it leaves this cache or before a swap.
   */
  cachedSummaries?: number;
  /** finishRebuild attempts before giving up on a live projection that keeps moving ahead. */
  maxSwapAttempts?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Aborting stops between batches and discards the copy; the live one is untouched. */
  signal?: AbortSignal;
}

export interface RebuildResult {
  events: number;
  /** The checkpoint the swapped-in copy took over. */
  checkpoint: bigint;
  elapsedMs: number;
  swapAttempts: number;
}

const DEFAULT_BATCH_EVENTS = 10_000;
const DEFAULT_CACHED_SUMMARIES = 100_000;
const DEFAULT_MAX_SWAP_ATTEMPTS = 100;
/** Summaries per commit when the cache is flushed before a swap. */
const FLUSH_SLICE = 5_000;

/**
 * Pure: the summaries that a batch changes, given each touched stream's summary before it
 * (absent for a stream with none yet). Same fold as the live projection.
 */
export function projectSummaries(
  events: readonly RecordedEvent[],
  before: Pick<ReadonlyMap<string, TransactionSummary>, 'get'>,
): Map<string, TransactionSummary> {
  const changed = new Map<string, TransactionSummary>();
  for (const event of events) {
    if (!isTransactionStreamEvent(event)) continue;
    const current = changed.get(event.streamName) ?? before.get(event.streamName);
    const next = projectTransactionSummary(current, event);
    if (next && next !== current) changed.set(event.streamName, next);
  }
  return changed;
}

/**
 * Pure: the streams whose summary must be read from the copy before applying `events`. Reading
 * `$all` from position 0, a stream whose first event here is revision 0 has nothing stored yet,
 * and one still cached needs no read either: most batches read nothing at all.
 */
export function streamsToLoad(
  events: readonly RecordedEvent[],
  cached: ReadonlyMap<string, TransactionSummary>,
): string[] {
  const toLoad = new Set<string>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.streamName) || !isTransactionStreamEvent(event)) continue;
    seen.add(event.streamName);
    if (event.revision > 0n && !cached.has(event.streamName)) toLoad.add(event.streamName);
  }
  return [...toLoad];
}

/**
 * The rebuild's write-back cache: a bounded map of the most recently changed summaries (Map keeps
 * insertion order, so the first keys are the least recently touched). A summary is written to
 * the copy only when it leaves the cache or at a flush, not after every page that changes it: a
 * stream's few events usually span two or three pages, and writing each summary once is what
 * makes the rebuild fast.
 */
export class RecentSummaries extends Map<string, TransactionSummary> {
  /** Changed since they were last handed out for writing. */
  private readonly unwritten = new Set<string>();

  constructor(private readonly capacity: number) {
    super();
  }

  /** Keeps `summaries` as the most recent; returns the unwritten ones pushed out, to write now. */
  touch(summaries: Iterable<TransactionSummary>): TransactionSummary[] {
    for (const summary of summaries) {
      this.delete(summary.streamName);
      this.set(summary.streamName, summary);
      this.unwritten.add(summary.streamName);
    }
    const evicted: TransactionSummary[] = [];
    for (const [streamName, summary] of this) {
      if (this.size <= this.capacity) break;
      this.delete(streamName);
      if (this.unwritten.delete(streamName)) evicted.push(summary);
    }
    return evicted;
  }

  /** Every summary not written yet, which counts as written from now on. */
  takeUnwritten(): TransactionSummary[] {
    const summaries = [...this.unwritten].map((streamName) => this.get(streamName)!);
    this.unwritten.clear();
    return summaries;
  }
}

/**
 * Rebuilds the transaction summaries from position 0 into a copy beside the live table, catches
 * up with the head, and swaps the copy in (ReadModel.finishRebuild). Queries and the live
 * projection keep running on the live table throughout; see the README's "Projections".
 */
export async function rebuildTransactionSummaries(
  eventStore: EventStore,
  readModel: ReadModel,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const batchEvents = options.batchEvents ?? DEFAULT_BATCH_EVENTS;
  const maxSwapAttempts = options.maxSwapAttempts ?? DEFAULT_MAX_SWAP_ATTEMPTS;
  const cache = new RecentSummaries(options.cachedSummaries ?? DEFAULT_CACHED_SUMMARIES);
  const started = performance.now();
  let position = 0n;
  let events = 0;

  /** Applies pages until one comes back short: the copy has reached the head it saw. */
  const catchUp = async (): Promise<void> => {
    for (;;) {
      options.signal?.throwIfAborted();
      const head = await eventStore.headPosition();
      const page = await eventStore.readAll({ after: position, maxCount: batchEvents });
      const last = page.at(-1);
      if (!last) return;
      const loaded = await readModel.loadRebuildSummaries(
        SUMMARY_PROJECTION,
        streamsToLoad(page, cache),
      );
      // Disjoint (only uncached streams are loaded, and those were written when they left the
      // cache); looked up, not merged: copying a cache of 100,000 summaries into a new map per
      // page cost more than folding the page.
      const changed = projectSummaries(page, {
        get: (streamName) => cache.get(streamName) ?? loaded.get(streamName),
      });
      // The copy's checkpoint runs ahead of the summaries still only in the cache. That is safe
      // because nothing reads the copy but this rebuild (which finds them in the cache), an
      // unfinished rebuild is never resumed (beginRebuild discards it), and the cache is flushed
      // before every swap attempt.
      await readModel.commitRebuild(SUMMARY_PROJECTION, {
        summaries: cache.touch(changed.values()),
        checkpoint: last.position,
      });
      position = last.position;
      events += page.length;
      options.onProgress?.({ position, head: head > position ? head : position, events });
      if (page.length < batchEvents) return;
    }
  };

  await readModel.beginRebuild(SUMMARY_PROJECTION);
  try {
    // Position 0 recorded at once, so that an empty store still has a copy to swap in.
    await readModel.commitRebuild(SUMMARY_PROJECTION, { summaries: [], checkpoint: 0n });
    for (let attempt = 1; attempt <= maxSwapAttempts; attempt++) {
      await catchUp();
      const unwritten = cache.takeUnwritten();
      // In slices: a commit of the whole cache would be one very large transaction (MongoDB
      // caps a transaction's size and duration).
      for (let start = 0; start < unwritten.length; start += FLUSH_SLICE) {
        await readModel.commitRebuild(SUMMARY_PROJECTION, {
          summaries: unwritten.slice(start, start + FLUSH_SLICE),
          checkpoint: position,
        });
      }
      const swap = await readModel.finishRebuild(SUMMARY_PROJECTION);
      if (swap.swapped) {
        return {
          events,
          checkpoint: swap.checkpoint,
          elapsedMs: performance.now() - started,
          swapAttempts: attempt,
        };
      }
      // The live projection committed past the copy in the meantime: catch up and try again.
    }
    throw new Error(
      `the live ${SUMMARY_PROJECTION} projection stayed ahead of the rebuild for ` +
        `${maxSwapAttempts} attempts; nothing was swapped`,
    );
  } catch (error) {
    await readModel.abandonRebuild(SUMMARY_PROJECTION);
    throw error;
  }
}
