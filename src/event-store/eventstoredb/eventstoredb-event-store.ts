import { Logger } from '@nestjs/common';
import { Clock } from '../../shared/clock';
import {
  AppendResult,
  BatchHandler,
  EventStore,
  ExpectedRevision,
  NewEvent,
  PositionUnit,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
  Subscription,
  WrongExpectedRevisionError,
  revisionMatches,
} from '../event-store.port';
import { maxBatchSizeOf, startSubscription } from '../subscriptions';
import {
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  BACKWARDS,
  type ClientRecordedEvent,
  clientConnectionString,
  END,
  EventStoreDBClient,
  FORWARDS,
  type ReadPosition,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from './eventstoredb-client';
import {
  afterConcurrentAppend,
  chainEvents,
  expectedRevisionAfter,
  headOf,
  type PreparedEvent,
  prepareEvent,
  type StreamHead,
  toRecordedEvent,
} from './eventstoredb-events';
import { isSystemEvent, keepsInAll, keepsNothing, serverFilter } from './eventstoredb-filters';
import { decodePosition, encodePosition } from './eventstoredb-positions';
import {
  NOT_READY_RETRY_DELAYS_MS,
  type NotReadyRetry,
  retryWhileNotReady,
} from './eventstoredb-not-ready';
import { followAll } from './eventstoredb-subscription';

export interface EventStoreDbEventStoreOptions {
  /** `esdb://host:2113?tls=false`, or the same with `kurrentdb://`. */
  connectionString: string;
  clock: Clock;
}

/** Bounds one gRPC read of `$all`. */
const MAX_READ_PAGE = 1000;
/** System events (statistics, projection links) sit between ours: tiny pages would ping-pong. */
const MIN_READ_PAGE = 32;
/** `any` and `stream_exists` appends chain again after a concurrent writer, at most this often. */
const MAX_APPEND_ATTEMPTS = 20;

type Direction = typeof FORWARDS | typeof BACKWARDS;
type AppendOutcome = { appended: bigint } | { conflict: bigint | 'no_stream' };

function readLimit(maxCount: number | undefined): number {
  if (maxCount === undefined) return Infinity;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  }
  return maxCount;
}

/** Reads one more than wanted: a page may start with the event it starts from. */
function readPageSize(wanted: number): number {
  return Math.min(MAX_READ_PAGE, Math.max(MIN_READ_PAGE, wanted + 1));
}

/** Where to start reading `$all` to see everything after `after`; 0n is "no event yet". */
function readPositionAfter(after: bigint): ReadPosition {
  return after === 0n ? START : decodePosition(after);
}

/** Refuses, before any server call, what no event's position can be. */
function assertPosition(position: bigint): void {
  decodePosition(position);
}

function assertRevision(revision: bigint): void {
  if (revision < 0n) throw new RangeError(`fromRevision must not be negative, got ${revision}`);
}

/**
 * The event store on EventStoreDB / KurrentDB. Streams, revisions and expected revisions map
 * one to one; a position packs EventStoreDB's (commit, prepare) pair (see
 * eventstoredb-positions.ts); the hash chain travels in each event's metadata.
 *
 * An append reads the stream's last event, chains the new events after it and appends with that
 * exact revision as EventStoreDB's expected revision, so the server refuses the write if anything
 * slipped in between. It then reads its last event back for its position: the append response's
 * position is the transaction's, which for several events is not the last event's `$all`
 * position (kurrent-io/KurrentDB-Client-Dotnet#20, EventStore-Client-Go#88).
 */
export class EventStoreDbEventStore extends EventStore {
  /** A commit position is the byte offset of the commit in the server's transaction log. */
  override readonly positionUnit: PositionUnit = 'log_bytes';
  private readonly logger = new Logger(EventStoreDbEventStore.name);
  private readonly client: EventStoreDBClient;
  private readonly clock: Clock;
  private readonly subscriptions = new Set<Subscription>();
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly notReadyRetry: NotReadyRetry = {
    delaysMs: NOT_READY_RETRY_DELAYS_MS,
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    onRetry: (error, delayMs) =>
      this.logger.warn(
        `EventStoreDB not ready (${String(error)}); appending again in ${delayMs} ms`,
      ),
  };

  constructor(options: EventStoreDbEventStoreOptions) {
    super();
    this.client = EventStoreDBClient.connectionString(
      clientConnectionString(options.connectionString),
    );
    this.clock = options.clock;
  }

  override appendToStream(
    streamName: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (events.length === 0) {
      return Promise.reject(new RangeError(`No events to append to ${streamName}`));
    }
    const recordedAt = this.clock.now().toISOString();
    const prepared = events.map((event) => prepareEvent(event, recordedAt));
    // A starting node refuses before it writes anything; each try starts again from the stream's
    // head, so the expected revision still guards the write.
    return this.track(() =>
      retryWhileNotReady(
        () => this.appendPrepared(streamName, prepared, options.expectedRevision),
        this.notReadyRetry,
      ),
    );
  }

  private async appendPrepared(
    streamName: string,
    prepared: PreparedEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    for (let attempt = 1; ; attempt += 1) {
      const head = await this.readHead(streamName);
      const actual = head?.revision ?? 'no_stream';
      if (!revisionMatches(expected, actual)) {
        throw new WrongExpectedRevisionError(streamName, expected, actual);
      }
      const outcome = await this.appendAfter(streamName, head, prepared);
      if ('appended' in outcome) {
        const position = await this.positionOf(streamName, outcome.appended);
        return { nextExpectedRevision: outcome.appended, position };
      }
      const next = afterConcurrentAppend(streamName, expected, outcome.conflict);
      if (next !== 'retry') throw next;
      if (attempt === MAX_APPEND_ATTEMPTS) {
        throw new WrongExpectedRevisionError(streamName, expected, outcome.conflict);
      }
    }
  }

  override readStream(
    streamName: string,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent[]> {
    return this.track(async () => {
      const maxCount = readLimit(options.maxCount);
      if (options.fromRevision !== undefined) assertRevision(options.fromRevision);
      if (maxCount === 0) return [];
      const backwards = options.direction === 'backwards';
      const events = await this.readStreamEvents(streamName, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision ?? (backwards ? END : START),
        maxCount: Number.isFinite(maxCount) ? maxCount : undefined,
        requiresLeader: false,
      });
      return events.map(toRecordedEvent);
    });
  }

  /**
   * The client (6.2.1) cannot filter a read of `$all` on the server, so pages of `$all` are read
   * and filtered here until maxCount events are kept or the end is reached.
   */
  override readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.track(async () => {
      const wanted = readLimit(options.maxCount);
      let after = options.after ?? 0n;
      if (wanted === 0 || keepsNothing(options.filter)) return [];
      const requestedAfter = after;
      let from = readPositionAfter(after);
      const kept: RecordedEvent[] = [];
      for (;;) {
        const pageSize = readPageSize(wanted - kept.length);
        const page = await this.readAllPage(from, FORWARDS, pageSize).catch(
          async (error: unknown) => {
            // A position from a client may be none the server wrote, and the server may refuse
            // to read from one past its log: past the head there is nothing to read anyway.
            // Asked only on this error path, so that ordinary reads stay one round trip.
            if (after === requestedAfter && after >= (await this.readHeadPosition())) return [];
            throw error;
          },
        );
        const pageAfter = after;
        for (const event of page) {
          const position = encodePosition(event.position);
          // Whether a read starts at or after its position, what is not later is not ours.
          if (position <= after) continue;
          after = position;
          if (!keepsInAll(options.filter, event.streamId, event.type)) continue;
          kept.push(toRecordedEvent(event));
          if (kept.length === wanted) return kept;
        }
        if (page.length < pageSize) return kept;
        if (after === pageAfter) throw new Error(`Reading $all after ${after} made no progress`);
        from = decodePosition(after);
      }
    });
  }

  /** The commit's log offset: exact up to 2^53 bytes (8 PiB) of log. */
  override positionOffset(position: bigint): number {
    return Number(decodePosition(position).commit);
  }

  override headPosition(): Promise<bigint> {
    return this.track(() => this.readHeadPosition());
  }

  /** Read backwards from the head: as many pages as were recorded since `time`. */
  override positionBefore(time: Date): Promise<bigint> {
    const before = time.toISOString();
    return this.track(() =>
      this.lastPositionWhere((event) => toRecordedEvent(event).metadata.recordedAt < before),
    );
  }

  override subscribeToAll(options: SubscribeToAllOptions, handler: BatchHandler): Subscription {
    const maxBatchSize = maxBatchSizeOf(options);
    assertPosition(options.after ?? 0n);
    return startSubscription(
      (stopping) => this.follow(options, maxBatchSize, handler, stopping),
      this.subscriptions,
    );
  }

  override ping(): Promise<void> {
    return this.track(async () => {
      await this.readAllPage(END, BACKWARDS, 1);
    });
  }

  override close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // Handlers finishing their batch may still append, so appends stay open until they are done.
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.closed = true;
    await Promise.allSettled([...this.running]);
    await this.client.dispose();
  }

  /** Refuses work once closed, and lets close() wait for the work already under way. */
  private track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('EventStoreDbEventStore is closed'));
    const result = operation();
    this.running.add(result);
    const forget = () => this.running.delete(result);
    result.then(forget, forget);
    return result;
  }

  /** From the leader: a follower's older head would make a valid expected revision look stale. */
  private async readHead(streamName: string): Promise<StreamHead | undefined> {
    const [last] = await this.readStreamEvents(streamName, {
      direction: BACKWARDS,
      fromRevision: END,
      maxCount: 1,
      requiresLeader: true,
    });
    return last === undefined ? undefined : headOf(last);
  }

  private async appendAfter(
    streamName: string,
    head: StreamHead | undefined,
    events: PreparedEvent[],
  ): Promise<AppendOutcome> {
    try {
      const result = await this.client.appendToStream(
        streamName,
        chainEvents(streamName, head, events),
        { expectedRevision: expectedRevisionAfter(head) },
      );
      return { appended: result.nextExpectedRevision };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return { conflict: error.actualVersion };
      throw error;
    }
  }

  private async positionOf(streamName: string, revision: bigint): Promise<bigint> {
    const [event] = await this.readStreamEvents(streamName, {
      direction: FORWARDS,
      fromRevision: revision,
      maxCount: 1,
      requiresLeader: true,
    });
    if (event?.revision !== revision) {
      throw new Error(`${streamName}@${revision} was appended but could not be read back`);
    }
    return toRecordedEvent(event).position;
  }

  private async readStreamEvents(
    streamName: string,
    options: {
      direction: Direction;
      fromRevision: bigint | typeof START | typeof END;
      maxCount: number | undefined;
      requiresLeader: boolean;
    },
  ): Promise<ClientRecordedEvent[]> {
    const events: ClientRecordedEvent[] = [];
    try {
      // Without link resolution every entry is the event itself, with its stream revision.
      for await (const resolved of this.client.readStream(streamName, {
        ...options,
        resolveLinkTos: false,
      })) {
        if (resolved.event === undefined) throw new Error(`${streamName}: an entry without event`);
        events.push(resolved.event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  private async readAllPage(
    from: ReadPosition,
    direction: Direction,
    maxCount: number,
  ): Promise<AllStreamRecordedEvent[]> {
    const events: AllStreamRecordedEvent[] = [];
    for await (const resolved of this.client.readAll({
      fromPosition: from,
      direction,
      maxCount,
      resolveLinkTos: false,
    })) {
      events.push(eventOf(resolved));
    }
    return events;
  }

  /** The last event of `$all` that is not the server's own. */
  private readHeadPosition(): Promise<bigint> {
    return this.lastPositionWhere(() => true);
  }

  /** The last event of `$all` not the server's own that `wanted` accepts, read backwards. */
  private async lastPositionWhere(
    wanted: (event: AllStreamRecordedEvent) => boolean,
  ): Promise<bigint> {
    let from: ReadPosition = END;
    let below: bigint | undefined;
    for (let pageSize = MIN_READ_PAGE; ; pageSize = MAX_READ_PAGE) {
      const page = await this.readAllPage(from, BACKWARDS, pageSize);
      const pageBelow = below;
      for (const event of page) {
        const position = encodePosition(event.position);
        if (below !== undefined && position >= below) continue;
        below = position;
        if (!isSystemEvent(event.streamId, event.type) && wanted(event)) return position;
      }
      if (page.length < pageSize || below === undefined) return 0n;
      if (below === pageBelow) throw new Error(`Reading $all before ${below} made no progress`);
      from = decodePosition(below);
    }
  }

  private async follow(
    options: SubscribeToAllOptions,
    maxBatchSize: number,
    handler: BatchHandler,
    stopping: AbortSignal,
  ): Promise<void> {
    // Let subscribeToAll return before the handler first runs.
    await Promise.resolve();
    if (this.closing !== undefined) throw new Error('EventStoreDbEventStore is closed');
    const { filter } = options;
    const onServer = serverFilter(filter);
    await followAll<AllStreamResolvedEvent>({
      after: options.after ?? 0n,
      maxBatchSize,
      subscribe: (after) =>
        this.client.subscribeToAll(
          { fromPosition: readPositionAfter(after), filter: onServer, resolveLinkTos: false },
          // Buffers about one batch, so a slow handler holds the gRPC stream back.
          { highWaterMark: maxBatchSize },
        ),
      select: (resolved) => {
        const event = eventOf(resolved);
        return keepsInAll(filter, event.streamId, event.type) ? toRecordedEvent(event) : undefined;
      },
      handler,
      stopping,
      logger: this.logger,
    });
  }
}

function eventOf(resolved: AllStreamResolvedEvent): AllStreamRecordedEvent {
  if (resolved.event === undefined) throw new Error('$all returned an entry without its event');
  return resolved.event;
}
