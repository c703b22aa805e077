import {
  assertLimit,
  ListSummariesQuery,
  ReconciliationQueuePage,
  ReconciliationQueueQuery,
  SearchSummariesQuery,
  SummaryPage,
  TransactionSummary,
} from '../../transactions/read-model.port';
import { queueReasonOf } from '../reconciliation-queue';
import { newestFirstPage } from '../summary-pages';

/*
 * Pure queries over one copy's summaries, with the semantics of the SQLite adapter's SQL. Each
 * scans every summary: an in-memory store holds one simulated run or one test, not a ledger.
 */

function oldestFirst(a: TransactionSummary, b: TransactionSummary): number {
  if (a.requestedPosition === b.requestedPosition) return 0;
  return a.requestedPosition < b.requestedPosition ? -1 : 1;
}

function newestFirst(a: TransactionSummary, b: TransactionSummary): number {
  return oldestFirst(b, a);
}

function newestFirstMatches(
  summaries: Iterable<TransactionSummary>,
  matches: (summary: TransactionSummary) => boolean,
  limit: number,
): SummaryPage {
  assertLimit(limit);
  const rows = [...summaries].filter(matches).sort(newestFirst);
  // One row more than asked tells whether another page follows.
  return newestFirstPage(rows.slice(0, limit + 1), limit);
}

export function listSummariesPage(
  summaries: Iterable<TransactionSummary>,
  { owner, status, before, limit }: ListSummariesQuery,
): SummaryPage {
  return newestFirstMatches(
    summaries,
    (summary) =>
      summary.owner === owner &&
      (status === undefined || summary.status === status) &&
      (before === undefined || summary.requestedPosition < before),
    limit,
  );
}

/** A filter that is absent matches everything; a state that does not exist matches no filter. */
export function searchSummariesPage(
  summaries: Iterable<TransactionSummary>,
  query: SearchSummariesQuery,
): SummaryPage {
  const { status, stage, owner, clientId, transactionId, requestedFrom, requestedTo, before } =
    query;
  return newestFirstMatches(
    summaries,
    (summary) => {
      const { state } = summary;
      return (
        (status === undefined || summary.status === status) &&
        (owner === undefined || summary.owner === owner) &&
        (clientId === undefined || summary.clientId === clientId) &&
        (before === undefined || summary.requestedPosition < before) &&
        (stage === undefined || (state.exists && state.stage === stage)) &&
        (transactionId === undefined || (state.exists && state.transactionId === transactionId)) &&
        (requestedFrom === undefined || (state.exists && state.requestedAt >= requestedFrom)) &&
        (requestedTo === undefined || (state.exists && state.requestedAt < requestedTo))
      );
    },
    query.limit,
  );
}

export function reconciliationQueueSize(
  summaries: Iterable<TransactionSummary>,
  pendingRequestedBefore: string,
): number {
  let size = 0;
  for (const summary of summaries) {
    if (queueReasonOf(summary.state, pendingRequestedBefore)) size += 1;
  }
  return size;
}

export function reconciliationQueuePage(
  summaries: Iterable<TransactionSummary>,
  { pendingRequestedBefore, after, limit }: ReconciliationQueueQuery,
): ReconciliationQueuePage {
  assertLimit(limit);
  const queued = [...summaries]
    .filter((summary) => after === undefined || summary.requestedPosition > after)
    .flatMap((summary) => {
      const reason = queueReasonOf(summary.state, pendingRequestedBefore);
      return reason ? [{ summary, reason }] : [];
    })
    .sort((a, b) => oldestFirst(a.summary, b.summary));
  const items = queued.slice(0, limit);
  const nextAfter = queued.length > limit ? items[limit - 1].summary.requestedPosition : null;
  return { items, nextAfter };
}
