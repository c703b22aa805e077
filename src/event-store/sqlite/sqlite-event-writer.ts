import Database from 'better-sqlite3';
import { openSqliteDatabase } from '../../sqlite/sqlite';
import { WriteFailure, writeFailureOf } from '../../sqlite/sqlite-writer-thread';
import { chainHash } from '../hash-chain';
import {
  EventData,
  ExpectedRevision,
  RecordedEventMetadata,
  revisionMatches,
} from '../event-store.port';

export const EVENTS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id      TEXT    NOT NULL UNIQUE,
    stream_name   TEXT    NOT NULL,
    revision      INTEGER NOT NULL,
    type          TEXT    NOT NULL,
    data          TEXT    NOT NULL,
    metadata      TEXT    NOT NULL,
    previous_hash TEXT,
    hash          TEXT    NOT NULL,
    UNIQUE (stream_name, revision)
  );
  CREATE TRIGGER IF NOT EXISTS events_are_never_updated BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
  CREATE TRIGGER IF NOT EXISTS events_are_never_deleted BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
`;

/** An event as the writer receives it: already serialized, exactly as it will be stored. */
export interface SerializedEvent {
  id: string;
  type: string;
  dataJson: string;
  metadataJson: string;
}

export interface AppendRequest {
  streamName: string;
  expectedRevision: ExpectedRevision;
  events: SerializedEvent[];
}

/** Each append of a group commit succeeds or fails on its own. */
export type AppendOutcome =
  | { ok: true; nextExpectedRevision: bigint; position: bigint }
  | { ok: false; actual: bigint | 'no_stream' }
  | { ok: false; failure: WriteFailure };

interface StreamHead {
  revision: bigint;
  hash: string;
}

interface InsertParams {
  eventId: string;
  streamName: string;
  revision: bigint;
  type: string;
  data: string;
  metadata: string;
  previousHash: string | null;
  hash: string;
}

/**
 * The one writer of an events file in this process: each group commit is one IMMEDIATE
 * transaction and, with synchronous=FULL, one fsync of the WAL, so a resolved append survives a
 * power cut. It runs on the writer thread (sqlite-event-writer.thread.ts), started after
 * SqliteEventStore has created the file's schema.
 */
export class SqliteEventWriter {
  private readonly db: Database.Database;
  private readonly selectStreamHead: Database.Statement<[string], StreamHead>;
  private readonly insertEvent: Database.Statement<[InsertParams]>;
  private readonly writeBatch: Database.Transaction<(batch: AppendRequest[]) => AppendOutcome[]>;
  private readonly insertAppend: Database.Transaction<
    (append: AppendRequest, head: StreamHead | undefined) => AppendOutcome
  >;

  constructor(path: string) {
    this.db = openSqliteDatabase(path, 'FULL');
    this.db.defaultSafeIntegers(true);
    this.selectStreamHead = this.db.prepare(
      'SELECT revision, hash FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1',
    );
    this.insertEvent = this.db.prepare(
      `INSERT INTO events
         (event_id, stream_name, revision, type, data, metadata, previous_hash, hash)
       VALUES (@eventId, @streamName, @revision, @type, @data, @metadata, @previousHash, @hash)`,
    );
    this.writeBatch = this.db.transaction((batch: AppendRequest[]) =>
      batch.map((append) => this.writeAppend(append)),
    );
    // Called inside writeBatch, so better-sqlite3 runs it as a savepoint of the group commit.
    this.insertAppend = this.db.transaction((append: AppendRequest, head: StreamHead | undefined) =>
      this.insertEvents(append, head),
    );
  }

  /** One group commit. Throws only when the whole batch failed (nothing of it was written). */
  write(batch: AppendRequest[]): AppendOutcome[] {
    return this.writeBatch.immediate(batch);
  }

  close(): void {
    this.db.close();
  }

  /** Runs inside the group commit: earlier appends of the batch are already visible. */
  private writeAppend(append: AppendRequest): AppendOutcome {
    const head = this.selectStreamHead.get(append.streamName);
    const actual = head?.revision ?? 'no_stream';
    if (!revisionMatches(append.expectedRevision, actual)) return { ok: false, actual };
    try {
      return this.insertAppend(append, head);
    } catch (error) {
      // Without a transaction SQLite has rolled back the whole batch: every append must fail.
      if (!this.db.inTransaction) throw error;
      return { ok: false, failure: writeFailureOf(error) };
    }
  }

  private insertEvents(append: AppendRequest, head: StreamHead | undefined): AppendOutcome {
    let revision = head === undefined ? 0n : head.revision + 1n;
    let previousHash = head?.hash ?? null;
    let position = 0n;
    for (const event of append.events) {
      // The hash covers the stored JSON read back, which is exactly what readers will get.
      const hash = chainHash({
        id: event.id,
        streamName: append.streamName,
        revision,
        type: event.type,
        data: JSON.parse(event.dataJson) as EventData,
        metadata: JSON.parse(event.metadataJson) as RecordedEventMetadata,
        previousHash,
      });
      const { lastInsertRowid } = this.insertEvent.run({
        eventId: event.id,
        streamName: append.streamName,
        revision,
        type: event.type,
        data: event.dataJson,
        metadata: event.metadataJson,
        previousHash,
        hash,
      });
      position = BigInt(lastInsertRowid);
      previousHash = hash;
      revision += 1n;
    }
    return { ok: true, nextExpectedRevision: revision - 1n, position };
  }
}
