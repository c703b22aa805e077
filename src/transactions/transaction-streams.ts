import { Injectable } from '@nestjs/common';
import {
  AppendResult,
  EventData,
  EventStore,
  ExpectedRevision,
  RecordedEvent,
  WrongExpectedRevisionError,
} from '../event-store/event-store.port';
import { Ids } from '../shared/ids';
import { TRANSACTION_CATEGORY, streamNameFor } from './transaction-id';
import type { TransactionCommand } from './transaction.commands';
import { decide } from './transaction.decider';
import {
  TRANSACTION_EVENT_TYPES,
  TransactionEvent,
  TransactionEventType,
} from './transaction.events';
import { TransactionState, evolve, initialState } from './transaction.state';

/** Who and what caused a write; lands in the metadata of every event it appends. */
export interface CausationContext {
  correlationId: string;
  causationId: string;
  actor: string;
}

/**
 * The shape of event data this code writes (metadata.schemaVersion). Events are never rewritten,
 * so a shape change bumps this number and registers an upcaster from the previous version below.
 */
export const CURRENT_SCHEMA_VERSION = 2;

/** Pure: one event type's data at version v, turned into its shape at version v + 1. */
export type Upcaster = (data: EventData) => EventData;

/**
 * UPCASTERS[v][type] lifts `type` from v to v + 1; a type without an entry kept its shape.
 * The chain runs when events are read, never on the stored form, so hashes stay verifiable.
 */
export const UPCASTERS: Readonly<
  Record<number, Readonly<Partial<Record<TransactionEventType, Upcaster>>>>
> = {
  // v2: TransactionRequested always carries `note`, null when the client sent none. A v1 writer
  // could leave it out; evolve copies it into state.request, where an absent note would make an
  // idempotent retry (which carries null) look like a different request.
  1: { TransactionRequested: (data) => (data.note === undefined ? { ...data, note: null } : data) },
};

/** The data of an event stored at `schemaVersion`, in the current shape. */
export function upcast(type: string, data: EventData, schemaVersion: number): EventData {
  if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
    throw new Error(`${type} has no valid schema version (${String(schemaVersion)})`);
  }
  // Newer data than this code knows cannot be read truthfully: refuse rather than guess.
  if (schemaVersion > CURRENT_SCHEMA_VERSION) {
    throw new Error(
      `${type} has schema version ${schemaVersion}, newer than ${CURRENT_SCHEMA_VERSION}`,
    );
  }
  let current = data;
  for (let version = schemaVersion; version < CURRENT_SCHEMA_VERSION; version++) {
    const upcaster = UPCASTERS[version]?.[type as TransactionEventType];
    if (upcaster) current = upcaster(current);
  }
  return current;
}

/** Other writers kept changing the stream between our read and our append; the caller retries. */
export class ConcurrentWritesError extends Error {
  constructor(readonly transactionId: string) {
    super('The transaction is being changed concurrently; retry the request');
    this.name = 'ConcurrentWritesError';
  }
}

/** Each retry follows another writer's success, so this only bounds pathological contention. */
const MAX_CONFLICT_RETRIES = 10;

const KNOWN_TYPES: ReadonlySet<string> = new Set(TRANSACTION_EVENT_TYPES);

export function isTransactionEvent(event: RecordedEvent): boolean {
  return KNOWN_TYPES.has(event.type);
}

const STREAM_PREFIX = `${TRANSACTION_CATEGORY}-`;

/** The stream filter of every projection of the transactions: their own events, in their streams. */
export function isTransactionStreamEvent(event: RecordedEvent): boolean {
  return event.streamName.startsWith(STREAM_PREFIX) && isTransactionEvent(event);
}

/** Our own events, read back: the type is checked, the data upcast to the current shape. */
export function toTransactionEvent(event: RecordedEvent): TransactionEvent {
  if (!isTransactionEvent(event)) {
    throw new Error(`Unknown transaction event type ${event.type} at position ${event.position}`);
  }
  const data = upcast(event.type, event.data, event.metadata.schemaVersion);
  return { type: event.type, data } as unknown as TransactionEvent;
}

/** What a command did: the state after it, the events it appended (none: nothing to change). */
export interface TransactionWrite {
  state: TransactionState;
  events: TransactionEvent[];
  /** Global position of the append, when there was one. */
  position: bigint | null;
}

export interface LoadedTransaction {
  state: TransactionState;
  /** Revision of the last event, or 'no_stream': the expected revision for the next append. */
  revision: ExpectedRevision;
}

/** Reads and writes transaction streams: the only place domain events meet the event store. */
@Injectable()
export class TransactionStreams {
  constructor(
    private readonly eventStore: EventStore,
    private readonly ids: Ids,
  ) {}

  async load(transactionId: string): Promise<LoadedTransaction> {
    const events = await this.eventStore.readStream(streamNameFor(transactionId));
    const last = events.at(-1);
    return {
      state: events.map(toTransactionEvent).reduce(evolve, initialState),
      revision: last ? last.revision : 'no_stream',
    };
  }

  /**
   * The one write path of a transaction: load, decide, append with the loaded revision, and on a
   * concurrent write decide again on the fresh state. The decision is retried, never the I/O
   * that produced the command's facts. `expectNew` decides first against an empty stream and
   * appends with `no_stream`, saving the read for a command that usually starts the stream; if
   * the stream exists, that append fails and the command is decided on the real state.
   */
  async handle(
    transactionId: string,
    command: TransactionCommand,
    context: CausationContext,
    { expectNew = false }: { expectNew?: boolean } = {},
  ): Promise<TransactionWrite> {
    let loaded: LoadedTransaction = expectNew
      ? { state: initialState, revision: 'no_stream' }
      : await this.load(transactionId);
    for (let attempt = 1; ; attempt++) {
      const events = decide(command, loaded.state);
      if (events.length === 0) return { state: loaded.state, events, position: null };
      try {
        const { position } = await this.append(transactionId, events, loaded.revision, context);
        return { state: events.reduce(evolve, loaded.state), events, position };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= MAX_CONFLICT_RETRIES) throw new ConcurrentWritesError(transactionId);
      }
      loaded = await this.load(transactionId);
    }
  }

  private append(
    transactionId: string,
    events: TransactionEvent[],
    expectedRevision: ExpectedRevision,
    context: CausationContext,
  ): Promise<AppendResult> {
    return this.eventStore.appendToStream(
      streamNameFor(transactionId),
      events.map((event) => ({
        id: this.ids.uuid(),
        type: event.type,
        data: { ...event.data },
        metadata: { ...context, schemaVersion: CURRENT_SCHEMA_VERSION },
      })),
      { expectedRevision },
    );
  }
}
