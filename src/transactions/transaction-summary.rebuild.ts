import type { EventStore, RecordedEvent } from '../event-store/event-store.port';
import {
  RebuildOptions,
  RebuildResult,
  RebuildableProjection,
  rebuildProjection,
} from '../projections/projection-rebuild';
import type { CliProjection } from '../projections/projections.cli';
import type { ReadModel, TransactionSummary } from './read-model.port';
import { SUMMARY_PROJECTION, projectTransactionSummary } from './transaction-summary.projection';
import { isTransactionStreamEvent } from './transaction-streams';

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

/** The summary projection as a rebuild sees it: its fold, and the read model's rebuild copy. */
export function rebuildableSummaries(
  readModel: ReadModel,
): RebuildableProjection<TransactionSummary> {
  return {
    name: SUMMARY_PROJECTION,
    keysToLoad: streamsToLoad,
    fold: projectSummaries,
    beginCopy: () => readModel.beginRebuild(SUMMARY_PROJECTION),
    loadFromCopy: (streamNames) => readModel.loadRebuildSummaries(SUMMARY_PROJECTION, streamNames),
    commitToCopy: (summaries, checkpoint) =>
      readModel.commitRebuild(SUMMARY_PROJECTION, { summaries, checkpoint }),
    swapCopyIn: () => readModel.finishRebuild(SUMMARY_PROJECTION),
    abandonCopy: () => readModel.abandonRebuild(SUMMARY_PROJECTION),
  };
}

/**
 * Rebuilds the transaction summaries into a copy beside the live table and swaps it in
 * (ReadModel.finishRebuild); see rebuildProjection.
 */
export function rebuildTransactionSummaries(
  eventStore: EventStore,
  readModel: ReadModel,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  return rebuildProjection(eventStore, rebuildableSummaries(readModel), options);
}

/** The summary projection's registration with `npm run projections`. */
export const summariesOnStores: CliProjection<{ readModel: ReadModel }> = {
  name: SUMMARY_PROJECTION,
  checkpoint: ({ readModel }) => readModel.checkpoint(SUMMARY_PROJECTION),
  rebuild: ({ readModel }) => rebuildableSummaries(readModel),
};
