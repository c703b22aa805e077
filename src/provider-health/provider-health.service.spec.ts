import { randomUUID } from 'node:crypto';
import { install, type Clock as FakeTimers } from '@sinonjs/fake-timers';
import { AppConfig } from '../config/app-config';
import type { RecordedEvent } from '../event-store/event-store.port';
import { MemoryEventStorage, MemoryEventStore } from '../event-store/memory/memory-event-store';
import { SettableClock } from '../event-store/event-store.contract';
import { Clock } from '../shared/clock';
import type { ProviderNotice } from './provider-health';
import { ProviderHealthProjection } from './provider-health.projection';
import { ProviderHealth, REPORT_MAX_AGE_MS } from './provider-health.service';
import { recordedEvents } from '../../test/support/recorded-transaction-events';

const META = { correlationId: 'c', causationId: 'c', actor: 'system', schemaVersion: 1 };
const T0 = Date.parse('2026-12-05T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** The fake timers' time: the same source the service's timer runs on. */
class FakeTimersClock extends Clock {
  constructor(private readonly timers: FakeTimers) {
    super();
  }
  now(): Date {
    return new Date(this.timers.now);
  }
}

const recorded = recordedEvents(iso(T0));

/** A transaction requested and submitted at `startMs`, then answered or not at `endMs`. */
function submission(
  transaction: string,
  startMs: number,
  endMs: number,
  answered: boolean,
): RecordedEvent[] {
  return [
    recorded(transaction, 'TransactionRequested', {
      transactionId: transaction,
      owner: 'alice',
      clientId: transaction,
      amount: 100,
      currency: 'KES',
      recipient: 'bob',
      note: null,
      requestedAt: iso(startMs),
    }),
    recorded(transaction, 'ProviderSubmissionStarted', { attempt: 1, startedAt: iso(startMs) }),
    answered
      ? recorded(transaction, 'ProviderAccepted', { attempt: 1, at: iso(endMs) })
      : recorded(transaction, 'ProviderTimedOut', {
          attempt: 1,
          reason: 'connection',
          detail: 'other side closed',
          at: iso(endMs),
        }),
  ];
}

describe('provider health pushed on a timer (fake clock)', () => {
  let timers: FakeTimers;
  let projection: ProviderHealthProjection;
  let health: ProviderHealth;
  let notices: (ProviderNotice | null)[];

  beforeEach(() => {
    timers = install({ now: T0, toFake: ['setInterval', 'clearInterval'] });
    // Defaults: 5 min short window, 1 min outage silence, 3 unanswered: re-evaluated every 3 s.
    const config = AppConfig.fromEnvironment({});
    const clock = new FakeTimersClock(timers);
    const store = new MemoryEventStore(new MemoryEventStorage(), clock);
    projection = new ProviderHealthProjection(config, store, clock);
    health = new ProviderHealth(projection, clock, config);
    health.onModuleInit();
    notices = [];
    health.onNoticeChange((notice) => notices.push(notice));
  });

  afterEach(() => {
    health.onModuleDestroy();
    timers.uninstall();
  });

  it('given answers then connections dropping, when the silence lasts a minute with no new event, then the outage is pushed', async () => {
    const answered = [1, 2, 3, 4, 5].flatMap((n) => submission(`ok-${n}`, T0 - 500, T0, true));
    const dropped = [1, 2, 3].flatMap((n) =>
      submission(`down-${n}`, T0 + 1_000, T0 + 1_100, false),
    );
    timers.tick(1_100);
    await projection.apply([...answered, ...dropped]);
    expect(health.report().state).toBe('normal');

    timers.tick(57_000);
    expect(notices).toEqual([]);
    timers.tick(3_000);
    expect(health.report().state).toBe('outage');
    expect(notices).toEqual([expect.objectContaining({ code: 'provider_outage' })]);
  });

  it('given a slow period, when it ages out of the short window with no new event, then normal is pushed', async () => {
    const slow = [1, 2, 3, 4, 5].flatMap((n) =>
      submission(`slow-${n}`, T0 + n * 1_000, T0 + n * 1_000 + 20_000, true),
    );
    timers.tick(25_000);
    await projection.apply(slow);
    expect(notices).toEqual([expect.objectContaining({ code: 'provider_slow' })]);

    // The first answer leaves the 5 min window at T0 + 321 s: four left, too few to judge.
    timers.tick(321_000 - 25_000 - 3_000);
    expect(notices).toHaveLength(1);
    timers.tick(3_000);
    expect(notices).toEqual([expect.objectContaining({ code: 'provider_slow' }), null]);
  });

  it('given a report just read, when answers arrive within the second, then readers get that report until it is a second old', async () => {
    timers.tick(1_000);
    await projection.apply(submission('first', T0, T0 + 1_000, true));
    expect(health.report().recent.submissions).toBe(1);

    timers.tick(REPORT_MAX_AGE_MS - 1);
    await projection.apply(submission('second', T0 + 1_500, T0 + 1_900, true));
    expect(health.report().recent.submissions).toBe(1);

    timers.tick(1);
    expect(health.report().recent.submissions).toBe(2);
  });

  it('pushes nothing once destroyed', async () => {
    const slow = [1, 2, 3, 4, 5].flatMap((n) => submission(`s-${n}`, T0, T0 + 20_000, true));
    timers.tick(20_000);
    await projection.apply(slow);
    health.onModuleDestroy();
    timers.tick(600_000);
    expect(notices).toEqual([expect.objectContaining({ code: 'provider_slow' })]);
  });
});

describe('provider health projection start', () => {
  it('replays from the last event before the long window and the reconciliation deadline', async () => {
    const clock = new SettableClock(new Date(T0));
    const store = new MemoryEventStore(new MemoryEventStorage(), clock);
    // Defaults: a 1 h long window and a 15 min reconciliation deadline.
    const config = AppConfig.fromEnvironment({});
    const projection = new ProviderHealthProjection(config, store, clock);
    const appendAt = async (ms: number, name: string) => {
      clock.set(new Date(ms));
      return (
        await store.appendToStream(
          name,
          [{ id: randomUUID(), type: 'Happened', data: {}, metadata: META }],
          {
            expectedRevision: 'any',
          },
        )
      ).position;
    };
    expect(await projection.checkpoint()).toBe(0n);
    await appendAt(T0, 'old');
    const lastTooOld = await appendAt(T0 + 1_000, 'old');
    await appendAt(T0 + 75 * 60_000, 'recent');
    clock.set(new Date(T0 + 75 * 60_000 + 2_000));
    expect(await projection.checkpoint()).toBe(lastTooOld);
  });
});
