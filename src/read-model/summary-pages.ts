import type { SummaryPage, TransactionSummary } from '../transactions/read-model.port';

/** Rows fetched newest first with one more than the limit, which tells whether more follow. */
export function newestFirstPage(rows: TransactionSummary[], limit: number): SummaryPage {
  const items = rows.slice(0, limit);
  const nextBefore = rows.length > limit ? items[items.length - 1].requestedPosition : null;
  return { items, nextBefore };
}
