import type { SearchSummariesQuery, TransactionSummary } from '../../transactions/read-model.port';
import type { TransactionState } from '../../transactions/transaction.state';
import { SUMMARY_COLUMNS } from './sqlite-summary-writes';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * A cursor from a client may name any position; SQLite integers stop at 64 bits, and every
 * stored position is inside them, so a bound beyond them means the same as the nearest end.
 */
export function int64Bound(position: bigint): bigint {
  if (position > INT64_MAX) return INT64_MAX;
  return position < INT64_MIN ? INT64_MIN : position;
}

export type SearchFilter = Exclude<keyof SearchSummariesQuery, 'limit'>;

/** Each search filter's condition, bound by name to the query field of the same name. */
export const SEARCH_CONDITIONS: Record<SearchFilter, string> = {
  status: 'status = :status',
  stage: 'stage = :stage',
  owner: 'owner = :owner',
  clientId: 'client_id = :clientId',
  transactionId: 'transaction_id = :transactionId',
  requestedFrom: 'requested_at >= :requestedFrom',
  requestedTo: 'requested_at < :requestedTo',
  before: 'requested_position < :before',
};

/** A transaction_summaries row as read with safe integers on. */
export interface SummaryRow {
  stream_name: string;
  owner: string;
  client_id: string;
  status: string;
  requested_position: bigint;
  revision: bigint;
  state: string;
}

export function toSummary(row: SummaryRow): TransactionSummary {
  return {
    streamName: row.stream_name,
    owner: row.owner,
    clientId: row.client_id,
    status: row.status,
    requestedPosition: row.requested_position,
    revision: row.revision,
    state: JSON.parse(row.state) as TransactionState,
  };
}

/** An owner's summaries newest first, by status and before a cursor when given, limit last. */
export function listSummariesSql(hasStatus: boolean, hasBefore: boolean): string {
  const conditions = ['owner = ?'];
  if (hasStatus) conditions.push('status = ?');
  if (hasBefore) conditions.push('requested_position < ?');
  return `SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         WHERE ${conditions.join(' AND ')}
         ORDER BY requested_position DESC
         LIMIT ?`;
}

/** Support's search newest first, with the conditions of the filters present. */
export function searchSummariesSql(filters: SearchFilter[]): string {
  const conditions = filters.map((filter) => SEARCH_CONDITIONS[filter]);
  return `SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
         ORDER BY requested_position DESC
         LIMIT :limit`;
}

/**
 * The queue's size: the open cases (their partial index), plus the pending ones requested
 * before the cutoff that have no case (a pending transaction with a case is counted once).
 */
export const RECONCILIATION_QUEUE_SIZE_SQL = `SELECT
         (SELECT COUNT(*) FROM transaction_summaries WHERE reconciliation IS NOT NULL)
       + (SELECT COUNT(*) FROM transaction_summaries
          WHERE status = 'PENDING' AND requested_at < :cutoff AND reconciliation IS NULL)
       AS size`;

/**
 * Two index walks, each stopping after limit + 1 rows, merged: an OR over both conditions would
 * make SQLite scan every summary in position order. UNION drops a row both find.
 */
export const RECONCILIATION_QUEUE_SQL = `SELECT * FROM (
         SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         WHERE reconciliation IS NOT NULL AND requested_position > :after
         ORDER BY requested_position LIMIT :limit
       )
       UNION
       SELECT * FROM (
         SELECT ${SUMMARY_COLUMNS} FROM transaction_summaries
         WHERE status = 'PENDING' AND requested_position > :after AND requested_at < :cutoff
         ORDER BY requested_position LIMIT :limit
       )
       ORDER BY requested_position LIMIT :limit`;
