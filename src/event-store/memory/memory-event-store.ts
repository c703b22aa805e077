import { Clock } from '../../shared/clock';
import {
  AllFilter,
  AppendResult,
  BatchHandler,
  EventData,
  EventStore,
  ExpectedRevision,
  NewEvent,
  PositionUnit,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  RecordedEventMetadata,
  revisionMatches,
  SubscribeToAllOptions,
  Subscription,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { chainHash } from '../hash-chain';
import { maxBatchSizeOf, startSubscription } from '../subscriptions';

/** An event as stored: data and metadata as JSON text, as the SQLite store keeps them. */
interface StoredEvent {
  position: bigint;
  id: string;
  streamName: string;
  revision: bigint;
  type: string;
  dataJson: string;
  metadataJson: string;
  previousHash: string | null;
  hash: string;
}

/**
 * The events themselves, outliving any store opened on them: the simulator opens several
 * MemoryEventStore instances on one storage, as processes share one SQLite file, and drops one
 * (a crash) without losing what it wrote.
 */
export class MemoryEventStorage {
  /** In commit order: the event at position p is at index p - 1. */
  readonly events: StoredEvent[] = [];
  readonly streams = new Map<string, StoredEvent[]>();
  readonly eventIds = new Set<string>();
  /** Called after every append, by whichever store made it. */
  readonly appendListeners = new Set<() => void>();
}

function checkedMaxCount(maxCount: number | undefined): number {
  if (maxCount === undefined) return Infinity;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  }
  return maxCount;
}

/** A list that is present keeps only what it names: an empty list keeps nothing. */
function matches(event: StoredEvent, filter: AllFilter | undefined): boolean {
  const prefixes = filter?.streamNamePrefixes;
  if (prefixes !== undefined && !prefixes.some((prefix) => event.streamName.startsWith(prefix))) {
    return false;
  }
  return filter?.eventTypes === undefined || filter.eventTypes.includes(event.type);
}

/** A fresh copy each time: a caller mutating what it read cannot change the store. */
function toRecordedEvent(event: StoredEvent): RecordedEvent {
  return {
    id: event.id,
    streamName: event.streamName,
    type: event.type,
    data: JSON.parse(event.dataJson) as EventData,
    metadata: JSON.parse(event.metadataJson) as RecordedEventMetadata,
    revision: event.revision,
    position: event.position,
    previousHash: event.previousHash,
    hash: event.hash,
  };
}

/**
 * The event store in memory, for the simulator and fast tests (never a product default). Same
 * semantics as SqliteEventStore: positions 1, 2, 3... in commit order, the same hash chain over
 * the same stored JSON. Every call completes through promise microtasks alone, and a
 * subscription is woken by the append itself, so a run under a virtual clock is deterministic.
 */
export class MemoryEventStore extends EventStore {
  override readonly positionUnit: PositionUnit = 'events';
  private readonly subscriptions = new Set<Subscription>();
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly storage: MemoryEventStorage,
    private readonly clock: Clock,
  ) {
    super();
  }

  override async appendToStream(
    streamName: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError(`No events to append to ${streamName}`);
    const stream = this.storage.streams.get(streamName) ?? [];
    const head = stream.at(-1);
    const actual = head?.revision ?? 'no_stream';
    if (!revisionMatches(options.expectedRevision, actual)) {
      throw new WrongExpectedRevisionError(streamName, options.expectedRevision, actual);
    }
    const ids = events.map((event) => event.id);
    const duplicate = ids.find((id, i) => this.storage.eventIds.has(id) || ids.indexOf(id) !== i);
    if (duplicate !== undefined) throw new Error(`An event with id ${duplicate} already exists`);

    const recordedAt = this.clock.now().toISOString();
    let previousHash = head?.hash ?? null;
    let revision = head === undefined ? 0n : head.revision + 1n;
    let position = BigInt(this.storage.events.length);
    const stored = events.map((event): StoredEvent => {
      const dataJson = JSON.stringify(event.data);
      const metadataJson = JSON.stringify({ ...event.metadata, recordedAt });
      const content = { id: event.id, streamName, revision, type: event.type, previousHash };
      // The hash covers the stored JSON read back, which is exactly what readers will get.
      const hash = chainHash({
        ...content,
        data: JSON.parse(dataJson) as EventData,
        metadata: JSON.parse(metadataJson) as RecordedEventMetadata,
      });
      position += 1n;
      revision += 1n;
      previousHash = hash;
      return { ...content, position, dataJson, metadataJson, hash };
    });

    this.storage.events.push(...stored);
    stream.push(...stored);
    this.storage.streams.set(streamName, stream);
    for (const id of ids) this.storage.eventIds.add(id);
    for (const listener of [...this.storage.appendListeners]) listener();
    return { nextExpectedRevision: revision - 1n, position };
  }

  override async readStream(
    streamName: string,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxCount = checkedMaxCount(options.maxCount);
    const stream = this.storage.streams.get(streamName) ?? [];
    // A stream's event at revision r is at index r.
    const last = stream.length - 1;
    const selected: StoredEvent[] = [];
    if (options.direction === 'backwards') {
      const from = Math.min(Number(options.fromRevision ?? last), last);
      for (let index = from; index >= 0 && selected.length < maxCount; index -= 1) {
        selected.push(stream[index]);
      }
    } else {
      const from = Math.max(Number(options.fromRevision ?? 0), 0);
      for (let index = from; index <= last && selected.length < maxCount; index += 1) {
        selected.push(stream[index]);
      }
    }
    return selected.map(toRecordedEvent);
  }

  override async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxCount = checkedMaxCount(options.maxCount);
    return this.page(options.after ?? 0n, options.filter, maxCount).map(toRecordedEvent);
  }

  override positionOffset(position: bigint): number {
    return Number(position);
  }

  override async headPosition(): Promise<bigint> {
    this.assertOpen();
    return BigInt(this.storage.events.length);
  }

  override async positionBefore(time: Date): Promise<bigint> {
    this.assertOpen();
    const before = time.toISOString();
    const { events } = this.storage;
    for (let index = events.length - 1; index >= 0; index--) {
      const { recordedAt } = JSON.parse(events[index].metadataJson) as RecordedEventMetadata;
      if (recordedAt < before) return events[index].position;
    }
    return 0n;
  }

  override subscribeToAll(options: SubscribeToAllOptions, handler: BatchHandler): Subscription {
    const maxBatchSize = maxBatchSizeOf(options);
    return startSubscription(
      (stopping) => this.deliverAll(options, maxBatchSize, handler, stopping),
      this.subscriptions,
    );
  }

  override async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Closes this instance only: the storage and what it holds stay for the next one. */
  override close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // Handlers finishing their batch may still append, so appends stay open until they are done.
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryEventStore is closed');
  }

  /** Up to maxCount matching events after `after`, in position order. */
  private page(after: bigint, filter: AllFilter | undefined, maxCount: number): StoredEvent[] {
    const page: StoredEvent[] = [];
    const events = this.storage.events;
    const start = after < 0n ? 0 : after >= BigInt(events.length) ? events.length : Number(after);
    for (let index = start; index < events.length && page.length < maxCount; index += 1) {
      if (matches(events[index], filter)) page.push(events[index]);
    }
    return page;
  }

  private async deliverAll(
    options: SubscribeToAllOptions,
    maxBatchSize: number,
    handler: BatchHandler,
    stopping: AbortSignal,
  ): Promise<void> {
    // Let subscribeToAll return before the handler first runs.
    await Promise.resolve();
    if (this.closing !== undefined) throw new Error('MemoryEventStore is closed');
    let after = options.after ?? 0n;
    while (!stopping.aborted) {
      const head = BigInt(this.storage.events.length);
      const events = this.page(after, options.filter, maxBatchSize);
      if (events.length > 0) await handler(events.map(toRecordedEvent));
      if (events.length < maxBatchSize) {
        // A page that is not full has looked at every event up to the head, matching or not.
        if (head > after) after = head;
        await this.nextAppend(head, stopping);
      } else {
        after = events[events.length - 1].position;
      }
    }
  }

  /** Resolves once the storage holds more than `head` events (an append by any instance), or on stop. */
  private nextAppend(head: bigint, stopping: AbortSignal): Promise<void> {
    if (BigInt(this.storage.events.length) > head || stopping.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.storage.appendListeners.delete(wake);
        stopping.removeEventListener('abort', wake);
        resolve();
      };
      this.storage.appendListeners.add(wake);
      stopping.addEventListener('abort', wake);
    });
  }
}
