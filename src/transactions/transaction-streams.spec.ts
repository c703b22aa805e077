import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettableClock } from '../event-store/event-store.contract';
import type { NewEvent } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { ContendedEventStore } from '../../test/support/contended-event-store';
import { streamNameFor } from './transaction-id';
import {
  CURRENT_SCHEMA_VERSION,
  ConcurrentWritesError,
  TransactionStreams,
} from './transaction-streams';
import type { RequestTransaction } from './transaction.commands';
import { CryptoIds } from '../shared/ids';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const ID = '00000000-0000-4000-8000-000000000001';
const CONTEXT = { correlationId: 'test', causationId: 'test', actor: 'test' };
const REQUEST: RequestTransaction = {
  type: 'RequestTransaction',
  transactionId: ID,
  owner: 'alice',
  clientId: 'c-1',
  request: { amount: 500, currency: 'KES', recipient: 'bob', note: null },
  requestedAt: T0.toISOString(),
};

describe('TransactionStreams.handle, the one write path', () => {
  let dir: string;
  let rival: SqliteEventStore;
  let store: ContendedEventStore;
  let streams: TransactionStreams;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'transaction-streams-'));
    const clock = new SettableClock(T0);
    const path = join(dir, 'events.sqlite');
    rival = new SqliteEventStore({ path, clock, pollIntervalMs: 20 });
    store = new ContendedEventStore(path, clock, rival, (): NewEvent => ({
      id: randomUUID(),
      type: 'StatusCheckScheduled',
      data: { attempt: 1, checkNumber: 1, dueAt: T0.toISOString(), reason: 'rival' },
      metadata: { ...CONTEXT, actor: 'rival', schemaVersion: CURRENT_SCHEMA_VERSION },
    }));
    streams = new TransactionStreams(store, new CryptoIds());
  });

  afterEach(async () => {
    await store.close();
    await rival.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const typesInStream = async () =>
    (await store.readStream(streamNameFor(ID))).map((event) => event.type);

  it('given no stream, when a request is handled as new, then it is appended with its position', async () => {
    const write = await streams.handle(ID, REQUEST, CONTEXT, { expectNew: true });

    expect(write.events.map((event) => event.type)).toEqual(['TransactionRequested']);
    expect(write.position).not.toBeNull();
    expect(write.state).toMatchObject({ exists: true, status: 'PENDING', owner: 'alice' });
    expect(await typesInStream()).toEqual(['TransactionRequested']);
  });

  it('given the stream exists, when the same request is handled as new, then it is decided on the real state: a replay appends nothing', async () => {
    await streams.handle(ID, REQUEST, CONTEXT, { expectNew: true });

    const replay = await streams.handle(ID, REQUEST, CONTEXT, { expectNew: true });

    expect(replay).toMatchObject({ events: [], position: null, state: { exists: true } });
    expect(await typesInStream()).toEqual(['TransactionRequested']);
  });

  it('given another writer appends between our read and our append, then the command is decided again on the fresh state', async () => {
    await streams.handle(ID, REQUEST, CONTEXT, { expectNew: true });
    store.rivalWrites = 1;

    const write = await streams.handle(
      ID,
      { type: 'ExpireDeadline', at: T0.toISOString() },
      CONTEXT,
    );

    expect(write.events.map((event) => event.type)).toEqual(['ReconciliationRequired']);
    expect(write.state).toMatchObject({ exists: true, reconciliation: 'deadline_exceeded' });
    expect(await typesInStream()).toEqual([
      'TransactionRequested',
      'StatusCheckScheduled',
      'ReconciliationRequired',
    ]);
  });

  it('given the stream changes before every append, then it gives up after ten tries with ConcurrentWritesError and appends nothing of its own', async () => {
    await streams.handle(ID, REQUEST, CONTEXT, { expectNew: true });
    store.rivalWrites = 10;

    await expect(
      streams.handle(ID, { type: 'ExpireDeadline', at: T0.toISOString() }, CONTEXT),
    ).rejects.toThrow(ConcurrentWritesError);

    const types = await typesInStream();
    expect(types).toHaveLength(11);
    expect(types).not.toContain('ReconciliationRequired');
  });

  it('given a command for a stream that does not exist, then the decider refuses it and nothing is appended', async () => {
    await expect(
      streams.handle(ID, { type: 'ExpireDeadline', at: T0.toISOString() }, CONTEXT),
    ).rejects.toThrow('No such transaction');
    expect(await typesInStream()).toEqual([]);
  });
});
