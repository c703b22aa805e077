import type { TransactionState } from '../../transactions/transaction.state';
import type { TransactionSummary } from '../../transactions/read-model.port';
import { fromSortableString, toSortableString } from '../../mongodb/sortable-bigint';
import type { StoredSummaryKey } from '../summary-commits';

/**
 * Which copy of the summaries a document belongs to: the live one, or one being rebuilt beside
 * it (see summary-generations.ts). A small counter, so a JS number holds it exactly.
 */
export type Generation = number;

/** One stream's summary in one copy, as stored in the summaries collection. */
export interface SummaryDocument {
  /** One document per stream and copy; writes upsert by it, so a stream never gets two. */
  _id: string;
  generation: Generation;
  streamName: string;
  owner: string;
  clientId: string;
  status: string;
  /** Sortable strings (sortable-bigint.ts): positions and revisions may exceed 2^64. */
  requestedPosition: string;
  revision: string;
  /** The state as a BSON document, so that statistics can aggregate its fields on the server. */
  state: TransactionState;
  // Copied out of state to the top level so that support's queries are index lookups. Null only
  // for a state that does not exist yet, which projections never store.
  transactionId: string | null;
  stage: string | null;
  requestedAt: string | null;
  reconciliation: string | null;
}

/** The fields a TransactionSummary is read back from. */
export type StoredSummary = Pick<
  SummaryDocument,
  'streamName' | 'owner' | 'clientId' | 'status' | 'requestedPosition' | 'revision' | 'state'
>;

/** Projection for StoredSummary: the copied-out and bookkeeping fields are not sent back. */
export const STORED_SUMMARY_FIELDS = {
  _id: 0,
  streamName: 1,
  owner: 1,
  clientId: 1,
  status: 1,
  requestedPosition: 1,
  revision: 1,
  state: 1,
} as const;

export const STORED_SUMMARY_KEY_FIELDS = {
  _id: 0,
  streamName: 1,
  owner: 1,
  clientId: 1,
  requestedPosition: 1,
  revision: 1,
} as const;

/** Generations are digits only, so the first ':' ends one and two pairs never share an id. */
export function summaryDocumentId(generation: Generation, streamName: string): string {
  return `${generation}:${streamName}`;
}

export function toSummaryDocument(
  generation: Generation,
  summary: TransactionSummary,
): SummaryDocument {
  const { state } = summary;
  return {
    _id: summaryDocumentId(generation, summary.streamName),
    generation,
    streamName: summary.streamName,
    owner: summary.owner,
    clientId: summary.clientId,
    status: summary.status,
    requestedPosition: toSortableString(summary.requestedPosition),
    revision: toSortableString(summary.revision),
    state,
    transactionId: state.exists ? state.transactionId : null,
    stage: state.exists ? state.stage : null,
    requestedAt: state.exists ? state.requestedAt : null,
    reconciliation: state.exists ? state.reconciliation : null,
  };
}

export function fromSummaryDocument(document: StoredSummary): TransactionSummary {
  return {
    streamName: document.streamName,
    owner: document.owner,
    clientId: document.clientId,
    status: document.status,
    requestedPosition: fromSortableString(document.requestedPosition),
    revision: fromSortableString(document.revision),
    state: document.state,
  };
}

export function fromSummaryKeyDocument(
  document: Pick<SummaryDocument, keyof StoredSummaryKey>,
): StoredSummaryKey {
  return {
    streamName: document.streamName,
    owner: document.owner,
    clientId: document.clientId,
    requestedPosition: fromSortableString(document.requestedPosition),
    revision: fromSortableString(document.revision),
  };
}
