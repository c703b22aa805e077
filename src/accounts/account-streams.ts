import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  RecordedEvent,
  WrongExpectedRevisionError,
} from '../event-store/event-store.port';
import { ACCOUNT_CATEGORY, accountStreamName } from './account-id';
import type { AccountCommand } from './account.commands';
import { decide } from './account.decider';
import { ACCOUNT_EVENT_TYPES, AccountEvent } from './account.events';
import { AccountState, evolve, initialState } from './account.state';

/** Who and what caused a write (the transactions' CausationContext, without importing them). */
export type AccountCausation = Omit<EventMetadata, 'schemaVersion'>;

/**
 * The shape of account event data this code writes (metadata.schemaVersion). The first shape
 * change bumps it and adds an upcaster chain like the transactions' (transaction-streams.ts).
 */
export const ACCOUNT_SCHEMA_VERSION = 1;

/** Other writers kept changing the account between our read and our append; the caller retries. */
export class AccountConcurrentWritesError extends Error {
  constructor(readonly streamName: string) {
    super('The account is being changed concurrently; retry the request');
    this.name = 'AccountConcurrentWritesError';
  }
}

/** Each retry follows another writer's success, so this only bounds pathological contention. */
const MAX_CONFLICT_RETRIES = 10;

/**
 * A random pause before deciding again after a conflict, growing with each try up to 50 ms.
 * Without it the writer that just won is the first to append again (its next command is ready
 * at once), so a loser in another instance can lose ten times running to one busy writer.
 */
function backOff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(2 ** attempt, 50);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How many accounts one process keeps loaded between commands. */
export const RECENT_ACCOUNTS = 10_000;

const KNOWN_TYPES: ReadonlySet<string> = new Set(ACCOUNT_EVENT_TYPES);
const STREAM_PREFIX = `${ACCOUNT_CATEGORY}-`;

/** The stream filter of every projection of the accounts: their own events, in their streams. */
export function isAccountStreamEvent(event: RecordedEvent): boolean {
  return event.streamName.startsWith(STREAM_PREFIX) && KNOWN_TYPES.has(event.type);
}

/** Our own events, read back: the type and the schema version are checked. */
export function toAccountEvent(event: RecordedEvent): AccountEvent {
  if (!isAccountStreamEvent(event)) {
    throw new Error(`Unknown account event type ${event.type} at position ${event.position}`);
  }
  // Newer data than this code knows cannot be read truthfully: refuse rather than guess.
  if (event.metadata.schemaVersion !== ACCOUNT_SCHEMA_VERSION) {
    throw new Error(
      `${event.type} has schema version ${String(event.metadata.schemaVersion)}, not ${ACCOUNT_SCHEMA_VERSION}`,
    );
  }
  return { type: event.type, data: event.data } as unknown as AccountEvent;
}

/** What a command did: the state after it, the events it appended (none: nothing to change). */
export interface AccountWrite {
  state: AccountState;
  events: AccountEvent[];
  /** Global position of the append, when there was one. */
  position: bigint | null;
}

export interface LoadedAccount {
  state: AccountState;
  /** Revision of the last event, or 'no_stream': the expected revision for the next append. */
  revision: bigint | 'no_stream';
}

const NOTHING_LOADED: LoadedAccount = { state: initialState, revision: 'no_stream' };

const isFurther = (loaded: LoadedAccount, than: LoadedAccount | undefined) =>
  than === undefined ||
  than.revision === 'no_stream' ||
  (loaded.revision !== 'no_stream' && loaded.revision >= than.revision);

/**
 * The accounts this process used last, each as of the revision it was loaded or written at,
 * least recently used leaving first (a Map keeps insertion order; a read re-inserts). A dozen
 * lines rather than a dependency: the one npm LRU already installed is a transitive lru-cache 5.
 * States are immutable to their readers (IdIndex), so one can be handed out and kept.
 */
export class RecentAccounts {
  private readonly byStream = new Map<string, LoadedAccount>();

  constructor(private readonly capacity: number) {}

  get(streamName: string): LoadedAccount | undefined {
    const loaded = this.byStream.get(streamName);
    if (loaded !== undefined) {
      this.byStream.delete(streamName);
      this.byStream.set(streamName, loaded);
    }
    return loaded;
  }

  /** Keeps `loaded` unless a later revision of the account is kept already. */
  remember(streamName: string, loaded: LoadedAccount): void {
    if (!isFurther(loaded, this.byStream.get(streamName))) return;
    this.byStream.delete(streamName);
    this.byStream.set(streamName, loaded);
    if (this.byStream.size > this.capacity) {
      const [leastRecent] = this.byStream.keys();
      this.byStream.delete(leastRecent);
    }
  }
}

/**
 * Reads and writes account streams: the only place account events meet the event store. A hold
 * is decided on the balance at the loaded revision and appended expecting that revision, so two
 * holds decided on one balance cannot both land, whichever process or instance wrote them.
 *
 * Loading reads only the events after the revision this process last saw of the account (a
 * bounded cache of recent accounts), so a customer's thousandth payment does not replay the
 * other 999. The cache may be stale (another instance wrote since): that costs one conflict on
 * append and a read forward, never a wrong decision, because the append's expected revision is
 * what admits a decision.
 */
@Injectable()
export class AccountStreams {
  /**
   * The write in flight per account in this process. Writes of one instance to one account wait
   * their turn, so they do not all read one revision and all but one conflict: that would spend
   * the retries of a hot account's writers on each other. It decides nothing; the expected
   * revision does, between instances as within one.
   */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  private readonly recent = new RecentAccounts(RECENT_ACCOUNTS);

  constructor(private readonly eventStore: EventStore) {}

  /** The account as of its last event: what this process saw of it, read forward to the end. */
  load(owner: string, currency: string): Promise<LoadedAccount> {
    const streamName = accountStreamName(owner, currency);
    return this.readForward(streamName, this.recent.get(streamName) ?? NOTHING_LOADED);
  }

  /** `from` with the events recorded after its revision folded in. */
  private async readForward(streamName: string, from: LoadedAccount): Promise<LoadedAccount> {
    const events = await this.eventStore.readStream(
      streamName,
      from.revision === 'no_stream' ? {} : { fromRevision: from.revision + 1n },
    );
    const last = events.at(-1);
    const loaded =
      last === undefined
        ? from
        : { state: events.map(toAccountEvent).reduce(evolve, from.state), revision: last.revision };
    this.recent.remember(streamName, loaded);
    return loaded;
  }

  /**
   * The one write path of an account: load, decide, append with the loaded revision, and on a
   * concurrent write decide again on the fresh state (10 tries, then
   * AccountConcurrentWritesError). The decision is retried, never the I/O behind the command.
   */
  handle(command: AccountCommand, context: AccountCausation): Promise<AccountWrite> {
    const streamName = accountStreamName(command.owner, command.currency);
    const previous = this.inFlight.get(streamName) ?? Promise.resolve();
    const write = previous.then(
      () => this.decideAndAppend(streamName, command, context),
      () => this.decideAndAppend(streamName, command, context),
    );
    this.inFlight.set(streamName, write);
    const forget = () => {
      if (this.inFlight.get(streamName) === write) this.inFlight.delete(streamName);
    };
    write.then(forget, forget);
    return write;
  }

  private async decideAndAppend(
    streamName: string,
    command: AccountCommand,
    context: AccountCausation,
  ): Promise<AccountWrite> {
    let loaded = await this.load(command.owner, command.currency);
    for (let attempt = 1; ; attempt++) {
      const events = decide(command, loaded.state);
      if (events.length === 0) return { state: loaded.state, events, position: null };
      try {
        const appended = await this.append(streamName, events, loaded.revision, context);
        const state = events.reduce(evolve, loaded.state);
        this.recent.remember(streamName, { state, revision: appended.nextExpectedRevision });
        return { state, events, position: appended.position };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= MAX_CONFLICT_RETRIES) throw new AccountConcurrentWritesError(streamName);
      }
      await backOff(attempt);
      // Another writer appended since: what we decided on, plus what it wrote.
      loaded = await this.readForward(streamName, loaded);
    }
  }

  private append(
    streamName: string,
    events: AccountEvent[],
    expectedRevision: ExpectedRevision,
    context: AccountCausation,
  ): Promise<AppendResult> {
    return this.eventStore.appendToStream(
      streamName,
      events.map((event) => ({
        id: randomUUID(),
        type: event.type,
        data: { ...event.data },
        metadata: { ...context, schemaVersion: ACCOUNT_SCHEMA_VERSION },
      })),
      { expectedRevision },
    );
  }
}
