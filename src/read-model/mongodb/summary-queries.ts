import type { Filter, IndexDescription } from 'mongodb';
import type {
  ListSummariesQuery,
  ReconciliationQueuePage,
  ReconciliationQueueQuery,
  SearchSummariesQuery,
  TransactionSummary,
} from '../../transactions/read-model.port';
import { queueReasonOf } from '../reconciliation-queue';
import { sortableAbove, sortableBelow } from '../../mongodb/sortable-bigint';
import type { Generation, SummaryDocument } from './summary-documents';

export type SummaryFilter = Filter<SummaryDocument>;

/**
 * Every index leads with `generation`, because every query and commit names one copy. MongoDB
 * walks an index backwards as readily as forwards, so a "newest first" index also serves an
 * oldest-first walk (the reconciliation queue).
 */
export const SUMMARY_INDEXES: IndexDescription[] = [
  // findSummary. Unique per copy: a commit claiming another stream's (owner, clientId) fails here.
  { name: 'by_client_id', key: { generation: 1, owner: 1, clientId: 1 }, unique: true },
  // listSummaries without status; searchSummaries by owner.
  { name: 'by_owner_newest_first', key: { generation: 1, owner: 1, requestedPosition: -1 } },
  // listSummaries with status; searchSummaries by owner and status.
  {
    name: 'by_owner_status_newest_first',
    key: { generation: 1, owner: 1, status: 1, requestedPosition: -1 },
  },
  // searchSummaries with no filter or only the cursor; deleting a whole copy.
  { name: 'newest_first', key: { generation: 1, requestedPosition: -1 } },
  // searchSummaries by status; the queue's pending-too-long walk (requestedAt checked on the way).
  { name: 'by_status_newest_first', key: { generation: 1, status: 1, requestedPosition: -1 } },
  // searchSummaries by stage.
  { name: 'by_stage_newest_first', key: { generation: 1, stage: 1, requestedPosition: -1 } },
  // searchSummaries by client id across owners.
  {
    name: 'by_client_id_only_newest_first',
    key: { generation: 1, clientId: 1, requestedPosition: -1 },
  },
  // findSummaryByTransactionId; searchSummaries by transaction id.
  { name: 'by_transaction_id', key: { generation: 1, transactionId: 1 } },
  // searchSummaries by request time (the matches are then sorted by position, as in SQLite).
  { name: 'by_requested_at', key: { generation: 1, requestedAt: 1 } },
  // The queue's open cases: only the few documents with a case are in it. A query uses a partial
  // index only when its filter implies the index's, hence the same $type condition in the query.
  {
    name: 'open_cases_oldest_first',
    key: { generation: 1, requestedPosition: 1 },
    partialFilterExpression: { reconciliation: { $type: 'string' } },
  },
];

export const NEWEST_FIRST = { requestedPosition: -1 } as const;
export const OLDEST_FIRST = { requestedPosition: 1 } as const;

/** Null when the cursor already excludes every storable position: the page is empty. */
export function listSummariesFilter(
  generation: Generation,
  { owner, status, before }: ListSummariesQuery,
): SummaryFilter | null {
  const filter: SummaryFilter = { generation, owner };
  if (status !== undefined) filter.status = status;
  if (before !== undefined) {
    const below = sortableBelow(before);
    if (below === null) return null;
    filter.requestedPosition = below;
  }
  return filter;
}

/** Every filter optional, combined with AND; null like listSummariesFilter. */
export function searchSummariesFilter(
  generation: Generation,
  query: SearchSummariesQuery,
): SummaryFilter | null {
  const { status, stage, owner, clientId, transactionId, requestedFrom, requestedTo, before } =
    query;
  const filter: SummaryFilter = { generation };
  if (status !== undefined) filter.status = status;
  if (stage !== undefined) filter.stage = stage;
  if (owner !== undefined) filter.owner = owner;
  if (clientId !== undefined) filter.clientId = clientId;
  if (transactionId !== undefined) filter.transactionId = transactionId;
  if (requestedFrom !== undefined || requestedTo !== undefined) {
    // ISO 8601 UTC strings of one format order like the instants they name.
    const requestedAt: { $gte?: string; $lt?: string } = {};
    if (requestedFrom !== undefined) requestedAt.$gte = requestedFrom;
    if (requestedTo !== undefined) requestedAt.$lt = requestedTo;
    filter.requestedAt = requestedAt;
  }
  if (before !== undefined) {
    const below = sortableBelow(before);
    if (below === null) return null;
    filter.requestedPosition = below;
  }
  return filter;
}

/** Oldest-first walk of the transactions with an open case; null when the cursor is past all. */
export function openCasesFilter(generation: Generation, after?: bigint): SummaryFilter | null {
  const filter: SummaryFilter = { generation, reconciliation: { $type: 'string' } };
  return withPositionAbove(filter, after);
}

/** Oldest-first walk of the PENDING transactions requested before the cutoff. */
export function pendingTooLongFilter(
  generation: Generation,
  pendingRequestedBefore: string,
  after?: bigint,
): SummaryFilter | null {
  const filter: SummaryFilter = {
    generation,
    status: 'PENDING',
    requestedAt: { $lt: pendingRequestedBefore },
  };
  return withPositionAbove(filter, after);
}

/**
 * The queue's size as two counts that never overlap: the open cases (their partial index), and
 * the pending ones requested before the cutoff that have no case.
 */
export function queueSizeFilters(
  generation: Generation,
  pendingRequestedBefore: string,
): [SummaryFilter, SummaryFilter] {
  return [
    { generation, reconciliation: { $type: 'string' } },
    {
      generation,
      status: 'PENDING',
      requestedAt: { $lt: pendingRequestedBefore },
      reconciliation: { $not: { $type: 'string' } },
    },
  ];
}

function withPositionAbove(filter: SummaryFilter, after: bigint | undefined): SummaryFilter | null {
  if (after === undefined) return filter;
  const above = sortableAbove(after);
  return above === null ? null : { ...filter, requestedPosition: above };
}

function byPositionOldestFirst(a: TransactionSummary, b: TransactionSummary): number {
  if (a.requestedPosition === b.requestedPosition) return 0;
  return a.requestedPosition < b.requestedPosition ? -1 : 1;
}

/**
 * Pure: one page of the queue from its two walks, each oldest first and at most limit + 1 long.
 * The first limit + 1 of their union lie within the first limit + 1 of each, so merging them is
 * exact; a transaction both walks found (a pending one with an open case) counts once.
 */
export function reconciliationQueuePage(
  openCases: TransactionSummary[],
  pendingTooLong: TransactionSummary[],
  {
    pendingRequestedBefore,
    limit,
  }: Pick<ReconciliationQueueQuery, 'pendingRequestedBefore' | 'limit'>,
): ReconciliationQueuePage {
  const byStream = new Map<string, TransactionSummary>();
  for (const summary of [...openCases, ...pendingTooLong])
    byStream.set(summary.streamName, summary);
  const rows = [...byStream.values()].sort(byPositionOldestFirst).slice(0, limit + 1);
  const items = rows.slice(0, limit).flatMap((summary) => {
    const reason = queueReasonOf(summary.state, pendingRequestedBefore);
    return reason ? [{ summary, reason }] : [];
  });
  const nextAfter = rows.length > limit ? rows[limit - 1].requestedPosition : null;
  return { items, nextAfter };
}
