import {
  SummaryStatistics,
  TIME_TO_FINAL_BUCKET_BOUNDS,
  TransactionSummary,
} from '../transactions/read-model.port';

/**
 * How many summaries share every counted dimension. A dimension a summary does not have (no final
 * status yet, say) is null. MongoDB's aggregation returns few groups (statuses x stages x buckets
 * x attempts x sources actually seen), so one pass over the copy on the server and a fold here
 * replace six separate GROUP BY queries; the in-memory read model makes a group of each summary.
 */
export interface StatisticsGroup {
  _id: {
    status: string | null;
    stage: string | null;
    timeToFinalBucket: number | null;
    attempts: number | null;
    finalSource: string | null;
  };
  count: number;
  statusChecks: number;
  maxStatusChecks: number | null;
}

function addCount(
  counts: Record<string, number>,
  key: string | number | null,
  count: number,
): void {
  if (key === null) return;
  counts[String(key)] = (counts[String(key)] ?? 0) + count;
}

/** Pure: the port's statistics from the aggregation's groups, every histogram bucket included. */
export function foldStatistics(
  groups: readonly StatisticsGroup[],
  bounds: readonly number[] = TIME_TO_FINAL_BUCKET_BOUNDS,
): SummaryStatistics {
  const byStatus: Record<string, number> = {};
  const byStage: Record<string, number> = {};
  const providerAttempts: Record<string, number> = {};
  const finalStatusSources: Record<string, number> = {};
  const buckets = new Array<number>(bounds.length + 1).fill(0);
  let transactions = 0;
  let totalChecks = 0;
  let maxChecks = 0;
  for (const { _id: key, count, statusChecks, maxStatusChecks } of groups) {
    transactions += count;
    totalChecks += statusChecks;
    maxChecks = Math.max(maxChecks, maxStatusChecks ?? 0);
    addCount(byStatus, key.status, count);
    addCount(byStage, key.stage, count);
    addCount(providerAttempts, key.attempts, count);
    addCount(finalStatusSources, key.finalSource, count);
    if (key.timeToFinalBucket !== null) buckets[key.timeToFinalBucket] += count;
  }
  return {
    transactions,
    byStatus,
    byStage,
    timeToFinal: [...bounds, null].map((belowSeconds, index) => ({
      belowSeconds,
      count: buckets[index],
    })),
    statusChecks: {
      total: totalChecks,
      mean: transactions === 0 ? 0 : totalChecks / transactions,
      max: maxChecks,
    },
    providerAttempts,
    finalStatusSources,
  };
}

/** The first bound the time to final is below (exclusive), or the open last bucket. */
function timeToFinalBucket(requestedAt: string, finalizedAt: string): number {
  const ms = Date.parse(finalizedAt) - Date.parse(requestedAt);
  const index = TIME_TO_FINAL_BUCKET_BOUNDS.findIndex((bound) => ms < bound * 1000);
  return index === -1 ? TIME_TO_FINAL_BUCKET_BOUNDS.length : index;
}

/** Each summary as a group of one, folded like the MongoDB adapter's aggregation groups. */
function statisticsGroupOf({ status, state }: TransactionSummary): StatisticsGroup {
  if (!state.exists) {
    const _id = { status, stage: null, timeToFinalBucket: null, attempts: null, finalSource: null };
    return { _id, count: 1, statusChecks: 0, maxStatusChecks: null };
  }
  return {
    _id: {
      status,
      stage: state.stage,
      timeToFinalBucket:
        state.finalizedAt === null ? null : timeToFinalBucket(state.requestedAt, state.finalizedAt),
      attempts: state.attempts.length,
      finalSource: state.finalSource,
    },
    count: 1,
    statusChecks: state.statusChecks,
    maxStatusChecks: state.statusChecks,
  };
}

export function summaryStatistics(summaries: Iterable<TransactionSummary>): SummaryStatistics {
  return foldStatistics([...summaries].map(statisticsGroupOf));
}
