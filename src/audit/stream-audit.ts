/**
 * The auditor's functional core: what one transaction stream proves on its own (an intact hash
 * chain, revisions 0..n) and what its read-model summary must therefore say. Pure: no store, no
 * clock, so it can be tested given/when/then and run incrementally over `$all`.
 */
import type { RecordedEvent } from '../event-store/event-store.port';
import { chainHash } from '../event-store/hash-chain';
import type { TransactionSummary } from '../transactions/read-model.port';
import { isTransactionEvent, toTransactionEvent } from '../transactions/transaction-streams';
import { TransactionState, evolve, initialState } from '../transactions/transaction.state';

/** One thing that is not as it should be. `expected` is what the events prove. */
export interface Difference {
  streamName: string;
  /** e.g. `hash@3` (revision 3 of the stream), `status`, `state.request.amount`, `row`. */
  field: string;
  expected: unknown;
  actual: unknown;
}

/** A stream audited up to some event: fold it with `auditEvent`, then compare with its row. */
export interface StreamAudit {
  streamName: string;
  events: number;
  /** The revision the next event must have. */
  nextRevision: bigint;
  /** The stored hash of the last event: the next event's previousHash must equal it. */
  lastHash: string | null;
  state: TransactionState;
  /** Position of the event that created the transaction: orders the owner's list. */
  requestedPosition: bigint | null;
  differences: Difference[];
}

export function startStreamAudit(streamName: string): StreamAudit {
  return {
    streamName,
    events: 0,
    nextRevision: 0n,
    lastHash: null,
    state: initialState,
    requestedPosition: null,
    differences: [],
  };
}

/** One more event of the stream, in revision order: its chain, then its meaning. */
export function auditEvent(audit: StreamAudit, event: RecordedEvent): StreamAudit {
  const at = `@${event.revision}`;
  const differences = chainDifferences(audit, event);
  const differ = (field: string, expected: unknown, actual: unknown) =>
    differences.push({ streamName: audit.streamName, field, expected, actual });

  let state = audit.state;
  let requestedPosition = audit.requestedPosition;
  if (!isTransactionEvent(event)) {
    differ(`type${at}`, 'a transaction event type', event.type);
  } else {
    try {
      state = evolve(state, toTransactionEvent(event));
      if (requestedPosition === null && state.exists) requestedPosition = event.position;
    } catch (error) {
      // An event this code cannot read (e.g. a newer schema version) is a finding, not a crash.
      differ(`data${at}`, 'readable by this version', (error as Error).message);
    }
  }
  return {
    ...audit,
    events: audit.events + 1,
    // Continue from what is stored, so one bad event is reported once, not at every later one.
    nextRevision: event.revision + 1n,
    lastHash: event.hash,
    state,
    requestedPosition,
    differences:
      differences.length > 0 ? [...audit.differences, ...differences] : audit.differences,
  };
}

/** Where a stream's chain stands: the revision and previous hash its next event must carry. */
export interface ChainPosition {
  streamName: string;
  nextRevision: bigint;
  lastHash: string | null;
}

/**
 * What one more event breaks in its stream's chain: its revision, its link to the previous
 * event, its own hash (recomputed over the stored form, before upcasting: what the writer hashed).
 */
export function chainDifferences(chain: ChainPosition, event: RecordedEvent): Difference[] {
  const at = `@${event.revision}`;
  const differences: Difference[] = [];
  const differ = (field: string, expected: unknown, actual: unknown) =>
    differences.push({ streamName: chain.streamName, field, expected, actual });

  if (event.revision !== chain.nextRevision)
    differ(`revision${at}`, chain.nextRevision, event.revision);
  if (event.previousHash !== chain.lastHash)
    differ(`previousHash${at}`, chain.lastHash, event.previousHash);
  const recomputed = chainHash({
    id: event.id,
    streamName: event.streamName,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    previousHash: event.previousHash,
  });
  if (recomputed !== event.hash) differ(`hash${at}`, recomputed, event.hash);
  return differences;
}

/**
 * Everything the audited stream and its read-model row disagree on. The row must be the stream
 * folded through `evolve` (see projectTransactionSummary); a stream that never created a
 * transaction must have no row.
 */
export function compareWithSummary(
  audit: StreamAudit,
  summary: TransactionSummary | undefined,
): Difference[] {
  const { streamName, state } = audit;
  if (!state.exists) {
    return summary ? [{ streamName, field: 'row', expected: null, actual: 'a row' }] : [];
  }
  if (!summary) return [{ streamName, field: 'row', expected: 'a row', actual: null }];
  const expected = {
    streamName,
    owner: state.owner,
    clientId: state.clientId,
    status: state.status,
    requestedPosition: audit.requestedPosition,
    revision: audit.nextRevision - 1n,
    state,
  };
  // Only the fields the projection derives from the stream: the row may carry more.
  const actual = {
    streamName: summary.streamName,
    owner: summary.owner,
    clientId: summary.clientId,
    status: summary.status,
    requestedPosition: summary.requestedPosition,
    revision: summary.revision,
    state: summary.state,
  };
  return diffValues(expected, actual, '').map(({ path, expected, actual }) => ({
    streamName,
    field: path,
    expected,
    actual,
  }));
}

/** The whole check of one stream: its events (in revision order) against its row. */
export function auditStream(
  streamName: string,
  events: readonly RecordedEvent[],
  summary: TransactionSummary | undefined,
): Difference[] {
  const audit = events.reduce(auditEvent, startStreamAudit(streamName));
  return [...audit.differences, ...compareWithSummary(audit, summary)];
}

/** A read-model row whose stream has no events at all. */
export function orphanRowDifference(streamName: string): Difference {
  return { streamName, field: 'row', expected: null, actual: 'a row without events' };
}

interface ValueDifference {
  path: string;
  expected: unknown;
  actual: unknown;
}

/**
 * Deep comparison that names each differing leaf by its path. A key whose value is undefined
 * counts as absent, because the read model stores the state as JSON.
 */
export function diffValues(expected: unknown, actual: unknown, path: string): ValueDifference[] {
  if (Object.is(expected, actual)) return [];
  const bothArrays = Array.isArray(expected) && Array.isArray(actual);
  if (bothArrays || (isPlainObject(expected) && isPlainObject(actual))) {
    const left = expected as Record<string, unknown>;
    const right = actual as Record<string, unknown>;
    const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
    if (bothArrays) keys.add('length');
    return [...keys].flatMap((key) =>
      diffValues(left[key], right[key], path === '' ? key : `${path}.${key}`),
    );
  }
  return [{ path, expected, actual }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
