import {
  EventData,
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
  RecordedEventMetadata,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { chainHash } from '../hash-chain';
import {
  type AppendExpectedRevision,
  type ClientRecordedEvent,
  type JSONEventData,
  jsonEvent,
  NO_STREAM,
} from './eventstoredb-client';
import { encodePosition, knownPosition } from './eventstoredb-positions';

/**
 * How the port's events are written to and read from EventStoreDB: JSON events whose id is the
 * writer's id, and whose EventStoreDB metadata is the port's metadata plus `recordedAt` and the
 * stream's hash chain (`previousHash`, `hash`).
 */

/** A new event as it will be stored and read back, before it has a place in its stream. */
export interface PreparedEvent {
  id: string;
  type: string;
  data: EventData;
  metadata: RecordedEventMetadata;
}

/** The last event of a stream, as much of it as the next append needs. */
export interface StreamHead {
  revision: bigint;
  hash: string;
}

interface StoredChain {
  metadata: RecordedEventMetadata;
  previousHash: string | null;
  hash: string;
}

/**
 * The client serializes data and metadata with JSON.stringify; taking them through JSON here
 * makes the hash cover exactly what a reader parses back (undefined fields gone, dates as text).
 * The server stores the id as a UUID and returns it in lower case, so it is hashed that way.
 */
export function prepareEvent(event: NewEvent, recordedAt: string): PreparedEvent {
  return {
    id: event.id.toLowerCase(),
    type: event.type,
    data: JSON.parse(JSON.stringify(event.data)) as EventData,
    metadata: JSON.parse(
      JSON.stringify({ ...event.metadata, recordedAt }),
    ) as RecordedEventMetadata,
  };
}

/** The events to send, chained after `head` (the stream's last event, if it exists). */
export function chainEvents(
  streamName: string,
  head: StreamHead | undefined,
  events: PreparedEvent[],
): JSONEventData[] {
  let revision = head === undefined ? 0n : head.revision + 1n;
  let previousHash = head?.hash ?? null;
  return events.map(({ id, type, data, metadata }) => {
    const hash = chainHash({ id, streamName, revision, type, data, metadata, previousHash });
    const stored = jsonEvent({ id, type, data, metadata: { ...metadata, previousHash, hash } });
    previousHash = hash;
    revision += 1n;
    return stored;
  });
}

/** The expected revision that makes the server refuse the append if the head has moved. */
export function expectedRevisionAfter(head: StreamHead | undefined): AppendExpectedRevision {
  return head === undefined ? NO_STREAM : head.revision;
}

/**
 * What to do when the server refused an append because another writer appended between our read
 * of the head and our write. `any` and `stream_exists` still hold for the new head, so the append
 * is chained again; an exact revision or `no_stream` was the caller's claim and is now false.
 */
export function afterConcurrentAppend(
  streamName: string,
  expected: ExpectedRevision,
  actual: bigint | 'no_stream',
): 'retry' | WrongExpectedRevisionError {
  if (expected === 'any' || expected === 'stream_exists') return 'retry';
  return new WrongExpectedRevisionError(streamName, expected, actual);
}

export function headOf(event: ClientRecordedEvent): StreamHead {
  return { revision: event.revision, hash: storedChainOf(event).hash };
}

export function toRecordedEvent(event: ClientRecordedEvent): RecordedEvent {
  const position = knownPosition(event.position);
  if (position === undefined) {
    throw new Error(
      `${describe(event)} came without its $all position; servers from 22.6 report it on ` +
        'stream reads (kurrent-io/KurrentDB#3459), so the server is older than this adapter needs',
    );
  }
  if (!event.isJson || !isJsonObject(event.data)) {
    throw notWrittenHere(event, 'its data is not a JSON object');
  }
  const { metadata, previousHash, hash } = storedChainOf(event);
  return {
    id: event.id,
    streamName: event.streamId,
    type: event.type,
    data: event.data,
    metadata,
    revision: event.revision,
    position: encodePosition(position),
    previousHash,
    hash,
  };
}

function storedChainOf(event: ClientRecordedEvent): StoredChain {
  const stored: unknown = event.metadata;
  if (!isJsonObject(stored)) throw notWrittenHere(event, 'its metadata is not a JSON object');
  const { previousHash, hash, ...metadata } = stored;
  if (typeof hash !== 'string' || (previousHash !== null && typeof previousHash !== 'string')) {
    throw notWrittenHere(event, 'its metadata has no hash chain');
  }
  if (!isRecordedEventMetadata(metadata)) {
    throw notWrittenHere(event, 'its metadata lacks correlation, causation, actor or recordedAt');
  }
  return { metadata, previousHash, hash };
}

function isRecordedEventMetadata(
  metadata: Record<string, unknown>,
): metadata is Record<string, unknown> & RecordedEventMetadata {
  return (
    typeof metadata.correlationId === 'string' &&
    typeof metadata.causationId === 'string' &&
    typeof metadata.actor === 'string' &&
    typeof metadata.schemaVersion === 'number' &&
    typeof metadata.recordedAt === 'string'
  );
}

/** JSON.parse makes plain objects; the client hands over raw bytes when parsing failed. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
  );
}

function describe(event: ClientRecordedEvent): string {
  return `Event ${event.id} (${event.streamId}@${event.revision})`;
}

function notWrittenHere(event: ClientRecordedEvent, reason: string): Error {
  return new Error(`${describe(event)} was not written by this event store: ${reason}`);
}
