import { AppConfig } from '../config/app-config';
import type { RecordedEvent } from '../event-store/event-store.port';
import { MemoryEventStorage, MemoryEventStore } from '../event-store/memory/memory-event-store';
import { SettableClock } from '../event-store/event-store.contract';
import { toTransactionEvent } from '../transactions/transaction-streams';
import { ROUNDING_ERROR, countOf } from './observation-compaction';
import { ProviderHealthFigures, measureProviderHealth } from './provider-health';
import { ProviderHealthProjection } from './provider-health.projection';
import { Observation, ObservedTransaction, observe } from './provider-observations';
import { recordedEvents } from '../../test/support/recorded-transaction-events';

const T0 = Date.parse('2026-12-05T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const LATENCIES_MS = [300, 800, 2_000, 5_000, 12_000];

const recorded = recordedEvents(iso(T0));

/** One second of `perSecond` transactions, each answered and final, or a 504 for every tenth. */
function secondOf(second: number, perSecond: number): RecordedEvent[] {
  return Array.from({ length: perSecond }, (_, index) => {
    const n = second * perSecond + index;
    const startMs = T0 + second * 1_000 + index;
    const endMs = startMs + LATENCIES_MS[n % LATENCIES_MS.length];
    const id = `tx-${n}`;
    return [
      recorded(id, 'TransactionRequested', {
        transactionId: id,
        clientId: id,
        amount: 100,
        currency: 'KES',
        recipient: 'bob',
        note: null,
        requestedAt: iso(startMs),
      }),
      recorded(id, 'ProviderSubmissionStarted', { attempt: 1, startedAt: iso(startMs) }),
      n % 10 === 0
        ? recorded(id, 'ProviderTimedOut', {
            attempt: 1,
            reason: 'gateway_timeout',
            detail: '504',
            at: iso(endMs),
          })
        : recorded(id, 'StatusConfirmed', {
            status: 'SUCCEEDED',
            source: 'submission',
            providerStatus: 'SUCCEEDED',
            reason: null,
            at: iso(endMs),
          }),
    ];
  }).flat();
}

function expectClose(approximate: ProviderHealthFigures, exact: ProviderHealthFigures): void {
  expect(approximate.submissions).toBe(exact.submissions);
  expect(approximate.gatewayTimeoutShare).toBe(exact.gatewayTimeoutShare);
  for (const [a, e] of [
    [approximate.answerLatencyMs, exact.answerLatencyMs],
    [approximate.timeToFinalMs.all, exact.timeToFinalMs.all],
  ]) {
    for (const key of ['p50', 'p90', 'p95', 'p99'] as const) {
      expect(Math.abs(a![key] - e![key])).toBeLessThanOrEqual(ROUNDING_ERROR * e![key]);
    }
  }
}

describe('ProviderHealthProjection memory', () => {
  it('given 20 transactions a second for 75 minutes, when applied a second at a time, then a few hundred observations stand for the long window, counting what was observed, and the figures stay within the rounding error of the exact ones', async () => {
    const config = AppConfig.fromEnvironment({});
    const clock = new SettableClock(new Date(T0));
    const projection = new ProviderHealthProjection(
      config,
      new MemoryEventStore(new MemoryEventStorage(), clock),
      clock,
    );
    const everything: Observation[] = [];
    const tracked = new Map<string, ObservedTransaction>();
    const seconds = 75 * 60;
    for (let second = 0; second < seconds; second++) {
      const events = secondOf(second, 20);
      for (const event of events) {
        const step = observe(tracked.get(event.streamName) ?? null, toTransactionEvent(event));
        if (step.tracked) tracked.set(event.streamName, step.tracked);
        else tracked.delete(event.streamName);
        everything.push(...step.observations);
      }
      await projection.apply(events);
    }

    const kept = projection.observations();
    const { longWindowMs } = config.providerHealth;
    const newest = everything.reduce((max, o) => Math.max(max, o.at), 0);
    const since = (from: number) => everything.filter((o) => o.at > from).length;
    expect(since(newest - longWindowMs)).toBeGreaterThan(130_000);
    expect(kept.length).toBeLessThan(1_500);
    // All of the long window is counted, and at most a minute more (dropped once a minute).
    const keptCount = kept.reduce((sum, o) => sum + countOf(o), 0);
    expect(keptCount).toBeGreaterThanOrEqual(since(newest - longWindowMs));
    expect(keptCount).toBeLessThanOrEqual(since(newest - longWindowMs - 60_000));

    // Windows starting on an interval's edge (1 min older, 10 s in the short window) see the
    // same observations compacted or not (none falls on the ms before such an edge).
    const end = newest + 1;
    for (const start of [T0 + 960_000 - 1, T0 + 4_220_000 - 1]) {
      expectClose(
        measureProviderHealth(kept, end, end - start),
        measureProviderHealth(everything, end, end - start),
      );
    }
  });
});
