import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettableClock } from '../event-store/event-store.contract';
import type { NewEvent } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { ContendedEventStore } from '../../test/support/contended-event-store';
import { accountStreamName } from './account-id';
import { describeAccountStreamsContract } from './account-streams.contract';
import {
  ACCOUNT_SCHEMA_VERSION,
  AccountConcurrentWritesError,
  AccountStreams,
  LoadedAccount,
  RecentAccounts,
} from './account-streams';
import type { AccountCommand, Deposit, PlaceHold } from './account.commands';
import { availableBalance, initialState } from './account.state';
import { CryptoIds } from '../shared/ids';
import { MathRandom } from '../shared/random';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const AT = T0.toISOString();
const EXPIRES = new Date(T0.getTime() + 15 * 60_000).toISOString();
const CONTEXT = { correlationId: 'test', causationId: 'test', actor: 'test' };
const ACCOUNT = { owner: 'alice', currency: 'KES' };
const STREAM = accountStreamName('alice', 'KES');

const deposit = (amount: number, depositId = 'dep-1'): Deposit => ({
  type: 'Deposit',
  ...ACCOUNT,
  depositId,
  amount,
  reference: 'funding',
  at: AT,
});
const hold = (holdId: string, amount: number): PlaceHold => ({
  type: 'PlaceHold',
  ...ACCOUNT,
  holdId,
  amount,
  expiresAt: EXPIRES,
  at: AT,
});

/** What a loaded account says, as plain data. */
function observed({ state, revision }: LoadedAccount) {
  if (!state.opened) return { state, revision };
  const { deposits, overdraftChanges, holds, ...balances } = state;
  return {
    revision,
    ...balances,
    deposits: Object.fromEntries(deposits.entries()),
    overdraftChanges: Object.fromEntries(overdraftChanges.entries()),
    holds: Object.fromEntries(holds.entries()),
  };
}

describeAccountStreamsContract('SQLite, two connections to one file', {
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'account-streams-'));
    const clock = new SettableClock(T0);
    const path = join(dir, 'events.sqlite');
    const first = new SqliteEventStore({ path, clock, pollIntervalMs: 20 });
    const second = new SqliteEventStore({ path, clock, pollIntervalMs: 20 });
    return {
      first,
      second,
      dispose: async () => {
        await Promise.all([first.close(), second.close()]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

describe('AccountStreams.handle, the one write path of an account', () => {
  let dir: string;
  let rival: SqliteEventStore;
  let store: ContendedEventStore;
  /** Two service instances, each with its own store connection to one file. */
  let instanceA: AccountStreams;
  let instanceB: AccountStreams;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'account-streams-'));
    const clock = new SettableClock(T0);
    const path = join(dir, 'events.sqlite');
    rival = new SqliteEventStore({ path, clock, pollIntervalMs: 20 });
    store = new ContendedEventStore(path, clock, rival, (): NewEvent => ({
      id: randomUUID(),
      type: 'FundsHeld',
      data: { holdId: randomUUID(), amount: 100, expiresAt: EXPIRES, at: AT },
      metadata: { ...CONTEXT, actor: 'rival', schemaVersion: ACCOUNT_SCHEMA_VERSION },
    }));
    instanceA = new AccountStreams(store, new MathRandom(), new CryptoIds());
    instanceB = new AccountStreams(rival, new MathRandom(), new CryptoIds());
  });

  afterEach(async () => {
    await store.close();
    await rival.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const typesInStream = async () => (await store.readStream(STREAM)).map((event) => event.type);

  it('given no account, a deposit opens it and is appended; its replay appends nothing', async () => {
    const write = await instanceA.handle(deposit(500), CONTEXT);
    expect(write.events.map((event) => event.type)).toEqual(['AccountOpened', 'FundsDeposited']);
    expect(write.position).not.toBeNull();

    const replay = await instanceB.handle(deposit(500), CONTEXT);
    expect(replay).toMatchObject({ events: [], position: null });
    expect(await typesInStream()).toEqual(['AccountOpened', 'FundsDeposited']);
  });

  it('given the stream changes before every append, then it gives up after ten tries and appends nothing of its own', async () => {
    await instanceA.handle(deposit(100_000), CONTEXT);
    store.rivalWrites = 10;

    await expect(instanceA.handle(hold('tx-1', 100), CONTEXT)).rejects.toThrow(
      AccountConcurrentWritesError,
    );

    const events = await store.readStream(STREAM);
    expect(events).toHaveLength(2 + 10);
    expect(events.map((event) => event.data.holdId)).not.toContain('tx-1');
  });

  it('given a command the decider refuses, then nothing is appended and the next write still runs', async () => {
    await expect(
      instanceA.handle({ type: 'PostHold', ...ACCOUNT, holdId: 'tx-9', at: AT }, CONTEXT),
    ).rejects.toThrow('No hold tx-9 on this account');
    expect(await typesInStream()).toEqual([]);

    await instanceA.handle(deposit(100), CONTEXT);
    expect(await typesInStream()).toEqual(['AccountOpened', 'FundsDeposited']);
  });

  it('given commands arriving while a write is in flight, then they are decided in turn and appended together, each caller told its own outcome', async () => {
    await instanceA.handle(deposit(250), CONTEXT);
    const appends = jest.spyOn(store, 'appendToStream');

    const writes = await Promise.allSettled([
      instanceA.handle(hold('tx-1', 100), CONTEXT),
      instanceA.handle(hold('tx-2', 100), CONTEXT),
      instanceA.handle({ type: 'PostHold', ...ACCOUNT, holdId: 'tx-9', at: AT }, CONTEXT),
      instanceA.handle(hold('tx-3', 100), CONTEXT),
      instanceA.handle(hold('tx-1', 100), CONTEXT),
    ]);

    const outcome = (index: number) => {
      const settled = writes[index];
      return settled.status === 'fulfilled'
        ? settled.value.events.map((event) => event.type)
        : (settled.reason as Error).message;
    };
    expect([0, 1, 2, 3, 4].map(outcome)).toEqual([
      ['FundsHeld'],
      ['FundsHeld'],
      'No hold tx-9 on this account',
      ['HoldRefused'],
      [],
    ]);
    // Three commands appended events, in at most two appends: the first write may go alone
    // (depending on when it started), the rest that queued behind it go together.
    expect(appends.mock.calls.length).toBeLessThanOrEqual(2);
    expect(await typesInStream()).toEqual([
      'AccountOpened',
      'FundsDeposited',
      'FundsHeld',
      'FundsHeld',
      'HoldRefused',
    ]);
  });

  it('given two instances writing alternately, each decides on the exact account and loads what a fresh reader loads', async () => {
    const settle = (holdId: string, type: 'PostHold' | 'VoidHold'): AccountCommand =>
      type === 'PostHold'
        ? { type, ...ACCOUNT, holdId, at: AT }
        : { type, ...ACCOUNT, holdId, reason: 'transaction_failed', at: AT };
    const commands: AccountCommand[] = [
      deposit(300),
      hold('tx-1', 100),
      hold('tx-2', 150),
      settle('tx-1', 'PostHold'),
      settle('tx-2', 'VoidHold'),
      {
        type: 'ReverseHold',
        ...ACCOUNT,
        holdId: 'tx-1',
        to: 'voided',
        reason: 'resolved_by_support',
        at: AT,
      },
      hold('tx-3', 300),
      { type: 'SetOverdraftLimit', ...ACCOUNT, changeId: 'od-1', limit: 50, at: AT },
      hold('tx-4', 51),
      hold('tx-5', 50),
      deposit(10, 'dep-2'),
      {
        type: 'ReverseHold',
        ...ACCOUNT,
        holdId: 'tx-2',
        to: 'posted',
        reason: 'resolved_by_support',
        at: AT,
      },
    ];
    const outcomes: string[] = [];
    for (const [index, command] of commands.entries()) {
      const write = await (index % 2 === 0 ? instanceA : instanceB).handle(command, CONTEXT);
      outcomes.push(write.events.map((event) => event.type).join());
      const fresh = observed(
        await new AccountStreams(rival, new MathRandom(), new CryptoIds()).load('alice', 'KES'),
      );
      expect(observed(await instanceA.load('alice', 'KES'))).toEqual(fresh);
      expect(observed(await instanceB.load('alice', 'KES'))).toEqual(fresh);
    }

    expect(outcomes).toEqual([
      'AccountOpened,FundsDeposited',
      'FundsHeld',
      'FundsHeld',
      'HoldPosted',
      'HoldVoided',
      'PostedHoldRefunded',
      'FundsHeld',
      'OverdraftLimitSet',
      'HoldRefused',
      'FundsHeld',
      'FundsDeposited',
      'VoidedHoldPosted',
    ]);
    const { state } = await instanceA.load('alice', 'KES');
    if (!state.opened) throw new Error('the account was not opened');
    // 310 deposited, 150 taken after all; 300 + 50 held; overdraft 50.
    expect({
      posted: state.posted,
      pending: state.pending,
      available: availableBalance(state),
    }).toEqual({ posted: 160, pending: 350, available: -140 });
  });

  it('given another instance spent the funds since this one last loaded, a hold decided on the stale state is refused on the fresh one', async () => {
    await instanceA.handle(deposit(100), CONTEXT);
    expect((await instanceA.load('alice', 'KES')).revision).toBe(1n);
    await instanceB.handle(hold('tx-b', 100), CONTEXT);

    const write = await instanceA.handle(hold('tx-a', 100), CONTEXT);

    expect(write.events).toEqual([
      {
        type: 'HoldRefused',
        data: { holdId: 'tx-a', amount: 100, reason: 'insufficient_funds', available: 0, at: AT },
      },
    ]);
    expect(await typesInStream()).toEqual([
      'AccountOpened',
      'FundsDeposited',
      'FundsHeld',
      'HoldRefused',
    ]);
  });

  it('loads read only the events after the revision this instance last saw', async () => {
    await instanceA.handle(deposit(100), CONTEXT);
    await instanceB.handle(hold('tx-1', 40), CONTEXT);
    const reads = jest.spyOn(store, 'readStream');

    const loaded = await instanceA.load('alice', 'KES');
    await instanceA.handle(hold('tx-2', 60), CONTEXT);
    await instanceA.load('alice', 'KES');

    expect(loaded.revision).toBe(2n);
    expect(reads.mock.calls).toEqual([
      [STREAM, { fromRevision: 2n }],
      [STREAM, { fromRevision: 3n }],
      [STREAM, { fromRevision: 4n }],
    ]);
    expect((await reads.mock.results[2].value) as unknown[]).toEqual([]);
  });
});

describe('RecentAccounts', () => {
  const at = (revision: bigint): LoadedAccount => ({ state: initialState, revision });

  it('keeps the most recently used accounts up to its capacity', () => {
    const recent = new RecentAccounts(2);
    recent.remember('a', at(1n));
    recent.remember('b', at(1n));
    recent.get('a');
    recent.remember('c', at(1n));

    expect(recent.get('b')).toBeUndefined();
    expect(recent.get('a')).toEqual(at(1n));
    expect(recent.get('c')).toEqual(at(1n));
  });

  it('never replaces an account with an earlier revision of it', () => {
    const recent = new RecentAccounts(2);
    recent.remember('a', at(5n));
    recent.remember('a', at(4n));
    recent.remember('a', { state: initialState, revision: 'no_stream' });
    expect(recent.get('a')).toEqual(at(5n));
    recent.remember('a', at(6n));
    expect(recent.get('a')).toEqual(at(6n));
  });
});
