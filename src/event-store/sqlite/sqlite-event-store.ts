import Database from 'better-sqlite3';
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
  SubscribeToAllOptions,
  Subscription,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { maxBatchSizeOf, startSubscription } from '../subscriptions';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import { WriterThread, WriterThreadError, threadScript } from '../../sqlite/sqlite-writer-thread';
import {
  AppendOutcome,
  AppendRequest,
  EVENTS_SCHEMA,
  SerializedEvent,
} from './sqlite-event-writer';

export interface SqliteEventStoreOptions {
  /** The database file. Several processes may open the same file at once. */
  path: string;
  clock: Clock;
  /** How often a caught-up subscription looks for events appended by another process. */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_INTERVAL_MS = 200;
/** Bounds one group commit (and the message carrying it); the rest waits for the next. */
const MAX_APPENDS_PER_COMMIT = 500;
/**
 * Group commits sent to the writer and not yet answered. With two, the writer starts the next
 * commit as soon as it finishes one, instead of idling until the event loop has handled the
 * answer (bench:accept: the writer was idle more than half the time with one).
 */
const MAX_COMMITS_IN_FLIGHT = 2;
/** The largest SQLite integer: "from the end" for backward reads, "no bound" for $all pages. */
const MAX_INT64 = 9223372036854775807n;
/** SQLite reads a negative LIMIT as "no limit". */
const NO_LIMIT = -1;

const EVENT_COLUMNS =
  'position, event_id, stream_name, revision, type, data, metadata, previous_hash, hash';

interface EventRow {
  position: bigint;
  event_id: string;
  stream_name: string;
  revision: bigint;
  type: string;
  data: string;
  metadata: string;
  previous_hash: string | null;
  hash: string;
}

interface PendingAppend extends AppendRequest {
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

// Functional core: pure decisions and mappings, no database.

function serializeEvent(event: NewEvent, recordedAt: string): SerializedEvent {
  return {
    id: event.id,
    type: event.type,
    dataJson: JSON.stringify(event.data),
    metadataJson: JSON.stringify({ ...event.metadata, recordedAt }),
  };
}

/** What an append's outcome from the writer means to its caller. */
function settle(append: PendingAppend, outcome: AppendOutcome): void {
  if (outcome.ok) {
    append.resolve({
      nextExpectedRevision: outcome.nextExpectedRevision,
      position: outcome.position,
    });
  } else if ('actual' in outcome) {
    append.reject(
      new WrongExpectedRevisionError(append.streamName, append.expectedRevision, outcome.actual),
    );
  } else {
    append.reject(new WriterThreadError(outcome.failure));
  }
}

function sqlLimit(maxCount: number | undefined): number {
  if (maxCount === undefined) return NO_LIMIT;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  }
  return maxCount;
}

/** Statements are cached by the filter's shape, so its values are always bound, never inlined. */
function filterShape(filter: AllFilter | undefined): string {
  return `${filter?.streamNamePrefixes?.length ?? 'all'}:${filter?.eventTypes?.length ?? 'all'}`;
}

/** A list that is present keeps only what it names: an empty list keeps nothing. */
function filterSql(filter: AllFilter | undefined): string {
  const conditions: string[] = [];
  const prefixes = filter?.streamNamePrefixes;
  if (prefixes !== undefined) {
    // instr(...) = 1 is a case-sensitive "starts with" that needs no escaping, unlike LIKE or GLOB.
    conditions.push(`(${prefixes.map(() => 'instr(stream_name, ?) = 1').join(' OR ') || '0'})`);
  }
  const types = filter?.eventTypes;
  if (types !== undefined) conditions.push(`type IN (${types.map(() => '?').join(', ')})`);
  return conditions.map((condition) => ` AND ${condition}`).join('');
}

function filterParams(filter: AllFilter | undefined): string[] {
  return [...(filter?.streamNamePrefixes ?? []), ...(filter?.eventTypes ?? [])];
}

/** An EventRow read in raw mode: the columns of EVENT_COLUMNS in order. */
type RawEventRow = [bigint, string, string, bigint, string, string, string, string | null, string];

/** Raw rows skip building a row object per event: `$all` pages are read by the thousand. */
function rawToRecordedEvent(row: RawEventRow): RecordedEvent {
  return {
    id: row[1],
    streamName: row[2],
    type: row[4],
    data: JSON.parse(row[5]) as EventData,
    metadata: JSON.parse(row[6]) as RecordedEventMetadata,
    revision: row[3],
    position: row[0],
    previousHash: row[7],
    hash: row[8],
  };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamName: row.stream_name,
    type: row.type,
    data: JSON.parse(row.data) as EventData,
    metadata: JSON.parse(row.metadata) as RecordedEventMetadata,
    revision: row.revision,
    position: row.position,
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

// Imperative shell.

/**
 * The embedded event store: one SQLite file in WAL mode with durable commits, shared safely by
 * several processes. Reads run on the event loop; appends are committed by a writer thread
 * (SqliteEventWriter), group-committed: those waiting while the writer is busy share one
 * transaction and one fsync, each still checked on its own.
 */
export class SqliteEventStore extends EventStore {
  /** Positions are the events' AUTOINCREMENT row ids: one per event, in commit order. */
  override readonly positionUnit: PositionUnit = 'events';
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly pollIntervalMs: number;

  private readonly selectStreamForwards: Database.Statement<[string, bigint, number], EventRow>;
  private readonly selectStreamBackwards: Database.Statement<[string, bigint, number], EventRow>;
  private readonly selectHeadPosition: Database.Statement<[], bigint>;
  private readonly selectRecordedAtFrom: Database.Statement<
    [bigint, bigint],
    { position: bigint; recordedAt: string }
  >;
  private readonly selectAllByFilterShape = new Map<
    string,
    Database.Statement<unknown[], RawEventRow>
  >();
  private readonly writer: WriterThread<AppendRequest[], AppendOutcome[]>;

  private pendingAppends: PendingAppend[] = [];
  /** Group commits sent to the writer and not yet settled. */
  private readonly committing = new Set<Promise<void>>();
  private flushScheduled = false;
  /** Counts group commits that wrote something, so a subscription knows if it missed a wake-up. */
  private commitCount = 0;
  private readonly commitListeners = new Set<() => void>();
  private readonly subscriptions = new Set<Subscription>();
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(options: SqliteEventStoreOptions) {
    super();
    this.clock = options.clock;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;

    // This connection only reads; the writer thread commits with synchronous=FULL.
    this.db = openSqliteDatabase(options.path, 'FULL');
    this.db.defaultSafeIntegers(true);
    this.db.exec(EVENTS_SCHEMA);
    this.writer = new WriterThread(
      'sqlite-event-writer',
      threadScript(__dirname, 'sqlite-event-writer.thread'),
      options.path,
    );

    this.selectStreamForwards = this.db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision >= ?
       ORDER BY revision ASC LIMIT ?`,
    );
    this.selectStreamBackwards = this.db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision <= ?
       ORDER BY revision DESC LIMIT ?`,
    );
    this.selectHeadPosition = this.db
      .prepare<[], bigint>('SELECT COALESCE(MAX(position), 0) FROM events')
      .pluck();
    this.selectRecordedAtFrom = this.db.prepare(
      `SELECT position, json_extract(metadata, '$.recordedAt') AS recordedAt FROM events
       WHERE position >= ? AND position < ? ORDER BY position LIMIT 1`,
    );
  }

  override async appendToStream(
    streamName: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError(`No events to append to ${streamName}`);
    const recordedAt = this.clock.now().toISOString();
    const serialized = events.map((event) => serializeEvent(event, recordedAt));
    return new Promise<AppendResult>((resolve, reject) => {
      this.pendingAppends.push({
        streamName,
        expectedRevision: options.expectedRevision,
        events: serialized,
        resolve,
        reject,
      });
      this.scheduleFlush();
    });
  }

  override async readStream(
    streamName: string,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = sqlLimit(options.maxCount);
    const rows =
      options.direction === 'backwards'
        ? this.selectStreamBackwards.all(streamName, options.fromRevision ?? MAX_INT64, limit)
        : this.selectStreamForwards.all(streamName, options.fromRevision ?? 0n, limit);
    return rows.map(toRecordedEvent);
  }

  override async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    // Every position fits a 64-bit integer: nothing comes after a larger one.
    if ((options.after ?? 0n) >= MAX_INT64) return [];
    return this.readAllPage(
      options.after ?? 0n,
      MAX_INT64,
      options.filter,
      sqlLimit(options.maxCount),
    );
  }

  override positionOffset(position: bigint): number {
    return Number(position);
  }

  override async headPosition(): Promise<bigint> {
    this.assertOpen();
    return this.readHeadPosition();
  }

  /** A binary search over positions: about 20 point reads for a million events. */
  override async positionBefore(time: Date): Promise<bigint> {
    this.assertOpen();
    const before = time.toISOString();
    // The answer lies in [low, high): low is 0n or an event recorded before `time`.
    let low = 0n;
    let high = this.readHeadPosition() + 1n;
    while (high - low > 1n) {
      const middle = (low + high) / 2n;
      const row = this.selectRecordedAtFrom.get(middle, high);
      if (row && row.recordedAt < before) low = row.position;
      else high = middle;
    }
    return low;
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
    this.readHeadPosition();
  }

  override close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // Handlers finishing their batch may still append, so appends stay open until they are done.
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.closed = true;
    while (this.committing.size > 0 || this.pendingAppends.length > 0) {
      if (this.pendingAppends.length > 0) this.commitNext();
      await Promise.race(this.committing);
    }
    await this.writer.close();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SqliteEventStore is closed');
  }

  /**
   * Group commit: appends made while the writer is busy wait and share a later commit and fsync.
   * Appends are sent at the end of this turn of the event loop, so requests handled in the same
   * turn share one commit too.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.committing.size >= MAX_COMMITS_IN_FLIGHT) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      while (this.pendingAppends.length > 0 && this.committing.size < MAX_COMMITS_IN_FLIGHT) {
        this.commitNext();
      }
    });
  }

  private commitNext(): void {
    const batch = this.pendingAppends.splice(0, MAX_APPENDS_PER_COMMIT);
    const committing: Promise<void> = this.commit(batch).finally(() => {
      this.committing.delete(committing);
      if (this.pendingAppends.length > 0 && !this.closed) this.scheduleFlush();
    });
    this.committing.add(committing);
  }

  private async commit(batch: PendingAppend[]): Promise<void> {
    if (batch.length === 0) return;
    let outcomes: AppendOutcome[];
    try {
      outcomes = await this.writer.request(
        // Without resolve/reject: functions cannot be copied to another thread.
        batch.map(({ streamName, expectedRevision, events }) => ({
          streamName,
          expectedRevision,
          events,
        })),
      );
    } catch (error) {
      for (const append of batch) append.reject(error);
      return;
    }
    batch.forEach((append, index) => settle(append, outcomes[index]));
    if (outcomes.some((outcome) => outcome.ok)) this.notifyCommit();
  }

  private notifyCommit(): void {
    this.commitCount += 1;
    for (const listener of [...this.commitListeners]) listener();
  }

  private readHeadPosition(): bigint {
    const head = this.selectHeadPosition.get();
    if (head === undefined) throw new Error('MAX(position) returned no row');
    return head;
  }

  private readAllPage(
    after: bigint,
    upTo: bigint,
    filter: AllFilter | undefined,
    limit: number,
  ): RecordedEvent[] {
    const shape = filterShape(filter);
    let statement = this.selectAllByFilterShape.get(shape);
    if (statement === undefined) {
      statement = this.db
        .prepare<unknown[], RawEventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events
           WHERE position > ? AND position <= ?${filterSql(filter)}
           ORDER BY position ASC LIMIT ?`,
        )
        .raw(true);
      this.selectAllByFilterShape.set(shape, statement);
    }
    return statement.all(after, upTo, ...filterParams(filter), limit).map(rawToRecordedEvent);
  }

  private async deliverAll(
    options: SubscribeToAllOptions,
    maxBatchSize: number,
    handler: BatchHandler,
    stopping: AbortSignal,
  ): Promise<void> {
    // Let subscribeToAll return before the handler first runs.
    await Promise.resolve();
    if (this.closing !== undefined) throw new Error('SqliteEventStore is closed');
    let after = options.after ?? 0n;
    while (!stopping.aborted) {
      const commitsSeen = this.commitCount;
      // Every event up to the head is committed (SQLite has one writer at a time and positions
      // only grow), so a page that is not full has looked at everything up to it, matching or not.
      const head = this.readHeadPosition();
      const events =
        head > after ? this.readAllPage(after, head, options.filter, maxBatchSize) : [];
      if (events.length > 0) await handler(events);
      const caughtUp = events.length < maxBatchSize;
      if (caughtUp) {
        if (head > after) after = head;
        await this.nextCommitOrPoll(commitsSeen, stopping);
      } else {
        after = events[events.length - 1].position;
      }
    }
  }

  /** Resolves on an append by this store, after pollIntervalMs (other processes), or on stop. */
  private nextCommitOrPoll(commitsSeen: number, stopping: AbortSignal): Promise<void> {
    if (this.commitCount !== commitsSeen || stopping.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.commitListeners.delete(wake);
        stopping.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, this.pollIntervalMs);
      this.commitListeners.add(wake);
      stopping.addEventListener('abort', wake);
    });
  }
}
