/**
 * The event store port. Semantics follow EventStoreDB exactly so that the EventStoreDB adapter is
 * a thin mapping: stream revisions start at 0, positions are global and increase with commit
 * order, and an expected-revision mismatch raises WrongExpectedRevisionError.
 */

export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | bigint;

export interface EventMetadata {
  /** The HTTP request (or job) that started the chain of work. */
  correlationId: string;
  /** The event id or command id that directly caused this event. */
  causationId: string;
  /** Who did it: `customer:<owner>`, `provider`, `process-manager`, `support:<subject>`. */
  actor: string;
  schemaVersion: number;
}

export interface RecordedEventMetadata extends EventMetadata {
  /** Set by the store from its injected clock when the event is appended. */
  recordedAt: string;
}

export type EventData = Record<string, unknown>;

export interface NewEvent {
  /** A UUID chosen by the writer. */
  id: string;
  type: string;
  data: EventData;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  id: string;
  streamName: string;
  type: string;
  data: EventData;
  metadata: RecordedEventMetadata;
  revision: bigint;
  position: bigint;
  /** Hash of the previous event of the same stream, null for revision 0. */
  previousHash: string | null;
  /** See hash-chain.ts: covers this event's content and previousHash. */
  hash: string;
}

export interface AppendResult {
  /** Revision of the last event written: the expected revision for the next append. */
  nextExpectedRevision: bigint;
  /** Global position of the last event written. */
  position: bigint;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface AllFilter {
  /** Keep events whose stream name starts with one of these. */
  streamNamePrefixes?: string[];
  /** Keep events of these types. */
  eventTypes?: string[];
}

export interface ReadAllOptions {
  /** Exclusive: return events with a position strictly greater. Defaults to the beginning. */
  after?: bigint;
  maxCount?: number;
  filter?: AllFilter;
}

export interface SubscribeToAllOptions {
  after?: bigint;
  filter?: AllFilter;
  /** Largest number of events handed to the handler at once. */
  maxBatchSize?: number;
}

/**
 * The handler is awaited before the next batch is taken. If it throws, the subscription stops
 * and `Subscription.done` rejects with that error: nothing is ever skipped.
 */
export type BatchHandler = (events: RecordedEvent[]) => Promise<void>;

export interface Subscription {
  /** Stops after the batch in hand, if any; resolves once stopped. */
  stop(): Promise<void>;
  /** Settles when the subscription ends: resolves on stop(), rejects on a handler error. */
  readonly done: Promise<void>;
}

/** Whether a stream at revision `actual` admits an append expecting `expected`. */
export function revisionMatches(expected: ExpectedRevision, actual: bigint | 'no_stream'): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === 'no_stream';
    case 'stream_exists':
      return actual !== 'no_stream';
    default:
      return actual === expected;
  }
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(
      `Wrong expected revision on ${streamName}: expected ${String(expected)}, actual ${String(actual)}`,
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * What the distance between two positions counts on a store: events (the embedded store numbers
 * them one by one), or bytes of the server's transaction log (EventStoreDB, whose positions are
 * log offsets).
 */
export type PositionUnit = 'events' | 'log_bytes';

export abstract class EventStore {
  /** The unit of positionOffset. */
  abstract readonly positionUnit: PositionUnit;

  /**
   * How far `position` lies from the start of `$all`, in positionUnit, as a plain number for
   * figures and gauges (a packed EventStoreDB position would not survive Number()).
   */
  abstract positionOffset(position: bigint): number;

  /** Atomic: all events land at consecutive revisions, or none does. */
  abstract appendToStream(
    streamName: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;

  /** Events of one stream; an empty array when the stream does not exist. */
  abstract readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;

  /** One page of `$all` in position order. */
  abstract readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /** Position of the last event in `$all`, 0n when empty. */
  abstract headPosition(): Promise<bigint>;

  /**
   * Position of the last event recorded before `time` (its metadata's recordedAt), 0n when none
   * was: reading `$all` after it gives what was recorded since, without reading what came
   * before. recordedAt grows with the position on one clock; across writers' clocks an event
   * may land on either side by their skew.
   */
  abstract positionBefore(time: Date): Promise<bigint>;

  /** Catch up from `after`, then deliver new events as they are appended. */
  abstract subscribeToAll(options: SubscribeToAllOptions, handler: BatchHandler): Subscription;

  /** Cheap liveness check of the underlying store, for readiness probes. */
  abstract ping(): Promise<void>;

  abstract close(): Promise<void>;
}
