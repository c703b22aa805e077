import { EventStoreDbEventStore } from '../event-store/eventstoredb/eventstoredb-event-store';
import { encodePosition } from '../event-store/eventstoredb/eventstoredb-positions';
import { SystemClock } from '../shared/clock';
import { lagFieldName, projectionLag } from './projection-lag';

const NOW = new Date('2026-11-21T10:00:30.000Z');
const events = (checkpoint: number, head: number) =>
  ({ checkpoint, head, unit: 'events' }) as const;

describe('projectionLag', () => {
  it('given a caught-up projection, then no lag', () => {
    expect(projectionLag(events(42, 42), null, NOW)).toStrictEqual({
      behind: 0,
      unit: 'events',
      seconds: 0,
    });
  });

  it('given events after the checkpoint, then the gap to the head and the age of the oldest', () => {
    expect(projectionLag(events(40, 45), '2026-11-21T10:00:00.000Z', NOW)).toStrictEqual({
      behind: 5,
      unit: 'events',
      seconds: 30,
    });
  });

  it('given a checkpoint past a head read a moment earlier, then no lag rather than negative', () => {
    expect(projectionLag(events(46, 45), null, NOW)).toMatchObject({ behind: 0, seconds: 0 });
  });

  it('given an oldest event stamped after now (another clock), then 0 seconds', () => {
    expect(projectionLag(events(1, 2), '2026-11-21T10:01:00.000Z', NOW).seconds).toBe(0);
  });

  it('given the oldest event gone from the read (head moved on), then the gap but 0 seconds', () => {
    expect(projectionLag(events(1, 3), null, NOW)).toMatchObject({ behind: 2, seconds: 0 });
  });

  it('names each figure by its unit', () => {
    expect([lagFieldName('events'), lagFieldName('log_bytes')]).toEqual([
      'lagEvents',
      'lagLogBytes',
    ]);
  });
});

describe('projection lag on EventStoreDB', () => {
  // Built, never connected: the client connects on its first call.
  const store = new EventStoreDbEventStore({
    connectionString: 'esdb://eventstore:2113?tls=false',
    clock: new SystemClock(),
  });

  afterAll(() => store.close());

  it('given one event of lag, then the bytes of log it takes, not 2^64 times that', () => {
    // Commit positions are byte offsets in the server's log, around 10 GB into it here.
    const checkpoint = encodePosition({ commit: 10_000_000_000n, prepare: 10_000_000_000n });
    const head = encodePosition({ commit: 10_000_000_312n, prepare: 10_000_000_312n });
    const offsets = {
      checkpoint: store.positionOffset(checkpoint),
      head: store.positionOffset(head),
      unit: store.positionUnit,
    };
    expect(projectionLag(offsets, '2026-11-21T10:00:29.500Z', NOW)).toStrictEqual({
      behind: 312,
      unit: 'log_bytes',
      seconds: 0.5,
    });
  });

  it('given a checkpoint past 2^64, then its commit offset exactly (what Number() of it loses)', () => {
    const checkpoint = encodePosition({ commit: 123_456_789_013n, prepare: 123_456_789_013n });
    expect(checkpoint).toBeGreaterThan(2n ** 100n);
    expect(store.positionOffset(checkpoint)).toBe(123_456_789_013);
  });

  it('given events of one commit after the checkpoint, then 0 bytes but their age', () => {
    const checkpoint = encodePosition({ commit: 5_000n, prepare: 5_000n });
    const head = encodePosition({ commit: 5_000n, prepare: 5_200n });
    const lag = projectionLag(
      {
        checkpoint: store.positionOffset(checkpoint),
        head: store.positionOffset(head),
        unit: store.positionUnit,
      },
      '2026-11-21T10:00:20.000Z',
      NOW,
    );
    expect(lag).toStrictEqual({ behind: 0, unit: 'log_bytes', seconds: 10 });
  });
});
