import { Injectable } from '@nestjs/common';
import {
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  RecordedEvent,
  WrongExpectedRevisionError,
} from '../event-store/event-store.port';
import { Ids } from '../shared/ids';
import { Random } from '../shared/random';
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
function backOff(attempt: number, random: Random): Promise<void> {
  const ms = random.next() * Math.min(2 ** attempt, 50);
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
  /**
   * Global position of the append that carried its events (the last of its batch, so at or
   * after its own events), when there was one.
   */
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
/** A command waiting its turn on its account, and the caller waiting for what it did. */
interface QueuedCommand {
  command: AccountCommand;
  context: AccountCausation;
  resolve: (write: AccountWrite) => void;
  reject: (error: unknown) => void;
}

/** One command's decision within a batch: its events and the state after them, or its refusal. */
type Decision = { events: AccountEvent[]; state: AccountState } | { error: unknown };

/** The most commands decided together and appended in one write. */
const MAX_BATCH = 256;

@Injectable()
export class AccountStreams {
  /**
   * The commands waiting per account in this process. One batch per account is in flight at a
   * time; the commands that arrive meanwhile are decided together, in arrival order, on the
   * state the batch left, and appended in one write (a group commit per account): a hot account
   * pays one append per batch, not per hold, and its writers do not all read one revision and
   * conflict. It decides nothing; the expected revision of each append does, between instances
   * as within one.
   */
  private readonly queues = new Map<string, QueuedCommand[]>();

  private readonly recent = new RecentAccounts(RECENT_ACCOUNTS);

  constructor(
    private readonly eventStore: EventStore,
    private readonly random: Random,
    private readonly ids: Ids,
  ) {}

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
   * A command the decider refuses rejects alone; the others of its batch go on.
   */
  handle(command: AccountCommand, context: AccountCausation): Promise<AccountWrite> {
    const streamName = accountStreamName(command.owner, command.currency);
    return new Promise<AccountWrite>((resolve, reject) => {
      const queue = this.queues.get(streamName);
      const queued = { command, context, resolve, reject };
      if (queue) {
        queue.push(queued);
        return;
      }
      this.queues.set(streamName, [queued]);
      void this.drain(streamName);
    });
  }

  /** Runs the account's batches until no command waits, then forgets the queue. */
  private async drain(streamName: string): Promise<void> {
    const queue = this.queues.get(streamName)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await this.decideAndAppend(streamName, batch);
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    this.queues.delete(streamName);
  }

  private async decideAndAppend(streamName: string, batch: QueuedCommand[]): Promise<void> {
    const { owner, currency } = batch[0].command;
    let loaded = await this.load(owner, currency);
    for (let attempt = 1; ; attempt++) {
      const decisions = decideInTurn(batch, loaded.state);
      const appending = batch.flatMap((queued, index) => {
        const decision = decisions[index];
        return 'events' in decision ? decision.events.map((event) => ({ event, queued })) : [];
      });
      try {
        const appended =
          appending.length === 0 ? null : await this.append(streamName, appending, loaded.revision);
        const last = decisions.findLast((decision) => 'state' in decision);
        if (appended && last && 'state' in last) {
          this.recent.remember(streamName, {
            state: last.state,
            revision: appended.nextExpectedRevision,
          });
        }
        batch.forEach((queued, index) => {
          const decision = decisions[index];
          if ('error' in decision) return queued.reject(decision.error);
          const { events, state } = decision;
          queued.resolve({
            state,
            events,
            position: events.length > 0 && appended ? appended.position : null,
          });
        });
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= MAX_CONFLICT_RETRIES) throw new AccountConcurrentWritesError(streamName);
      }
      await backOff(attempt, this.random);
      // Another writer appended since: what we decided on, plus what it wrote.
      loaded = await this.readForward(streamName, loaded);
    }
  }

  private append(
    streamName: string,
    appending: { event: AccountEvent; queued: QueuedCommand }[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    return this.eventStore.appendToStream(
      streamName,
      appending.map(({ event, queued }) => ({
        id: this.ids.uuid(),
        type: event.type,
        data: { ...event.data },
        metadata: { ...queued.context, schemaVersion: ACCOUNT_SCHEMA_VERSION },
      })),
      { expectedRevision },
    );
  }
}

/** Each command decided on the state the ones before it in the batch left. */
function decideInTurn(batch: QueuedCommand[], start: AccountState): Decision[] {
  let state = start;
  return batch.map(({ command }) => {
    try {
      const events = decide(command, state);
      state = events.reduce(evolve, state);
      return { events, state };
    } catch (error) {
      return { error };
    }
  });
}
