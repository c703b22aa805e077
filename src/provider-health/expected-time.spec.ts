import fc from 'fast-check';
import type { TransactionEvent } from '../transactions/transaction.events';
import { ExistingTransaction, fold } from '../transactions/transaction.state';
import {
  T0,
  at,
  policy,
  requested,
  scheduled,
  started,
  timedOut,
} from '../../test/support/transaction-history';
import { expectedTime } from './expected-time';
import { ProviderHealthFigures, measureProviderHealth } from './provider-health';

const noFigures = measureProviderHealth([], T0, 3_600_000);
const measured: ProviderHealthFigures = {
  ...noFigures,
  answerLatencyMs: { p50: 2000, p90: 8000, p95: 8000, p99: 9000 },
  webhookDelayMs: { p50: 15_000, p90: 28_000, p95: 28_000, p99: 30_000 },
  finalAfterTimeoutMs: { p50: 40_000, p90: 150_000, p95: 150_000, p99: 200_000 },
};

function stateOf(events: TransactionEvent[]): ExistingTransaction {
  const state = fold(events);
  if (!state.exists) throw new Error('no transaction');
  return state;
}

const iso = (ms: number) => new Date(ms).toISOString();
const second = (s: number) => T0 + s * 1000;

describe('expected time', () => {
  it('given a submission waiting for its answer, expects it within the answer latency', () => {
    const state = stateOf([requested, started(1, 10)]);
    expect(expectedTime(state, measured, policy, second(11))).toEqual({
      likelyBy: iso(second(12)),
      expectedBy: iso(second(18)),
    });
  });

  it('given the measured time to final from request, a waiting submission may take its p95', () => {
    const state = stateOf([requested, started(1, 10)]);
    const withFinals = {
      ...measured,
      timeToFinalMs: {
        ...measured.timeToFinalMs,
        all: { p50: 5000, p90: 20_000, p95: 60_000, p99: 90_000 },
      },
    };
    expect(expectedTime(state, withFinals, policy, second(11))).toEqual({
      likelyBy: iso(second(12)),
      expectedBy: iso(second(60)),
    });
  });

  it('given an accepted submission, expects it within the webhook delay', () => {
    const accepted: TransactionEvent = {
      type: 'ProviderAccepted',
      data: { attempt: 1, at: at(11) },
    };
    const state = stateOf([requested, started(1, 10), accepted]);
    expect(expectedTime(state, measured, policy, second(12))).toEqual({
      likelyBy: iso(second(25)),
      expectedBy: iso(second(38)),
    });
  });

  it('given a 504, counts from the timeout and never before the first status check', () => {
    const state = stateOf([requested, started(1, 0), timedOut(1, 30)]);
    const quick = {
      ...measured,
      finalAfterTimeoutMs: { p50: 1000, p90: 2000, p95: 2000, p99: 3000 },
    };
    expect(expectedTime(state, quick, policy, second(31))).toEqual({
      likelyBy: iso(second(35)),
      expectedBy: iso(second(35)),
    });
    expect(expectedTime(state, measured, policy, second(31))).toEqual({
      likelyBy: iso(second(70)),
      expectedBy: iso(second(180)),
    });
  });

  it('given nothing measured yet, falls back on the protocol: the late window after a timeout', () => {
    const state = stateOf([requested, started(1, 0), timedOut(1, 30)]);
    const bound = iso(second(30) + policy.lateWindowMs + policy.lateWindowMarginMs);
    expect(expectedTime(state, noFigures, policy, second(31))).toEqual({
      likelyBy: bound,
      expectedBy: bound,
    });
  });

  it('never expects it in the past', () => {
    const state = stateOf([requested, started(1, 10)]);
    expect(expectedTime(state, measured, policy, second(100))).toEqual({
      likelyBy: iso(second(100)),
      expectedBy: iso(second(100)),
    });
  });

  it('gives no time once final or while support has it', () => {
    const reconciling: TransactionEvent = {
      type: 'ReconciliationRequired',
      data: { reason: 'deadline_exceeded', at: at(900) },
    };
    const state = stateOf([requested, started(1, 0), timedOut(1, 30), reconciling]);
    expect(expectedTime(state, measured, policy, second(901))).toBeNull();
  });
});

/** One step of a provider history, at `gap` seconds after the previous one. */
type Step =
  | { kind: 'start' | 'accept' | 'lost'; gap: number }
  | { kind: 'timeout'; gap: number; reason: 'gateway_timeout' | 'timeout' | 'connection' }
  | { kind: 'schedule'; gap: number; dueIn: number }
  | { kind: 'check'; gap: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('start', 'accept', 'lost'), gap: fc.nat(200) }),
  fc.record({
    kind: fc.constant('timeout'),
    gap: fc.nat(60),
    reason: fc.constantFrom('gateway_timeout', 'timeout', 'connection'),
  }),
  fc.record({
    kind: fc.constant('schedule'),
    gap: fc.nat(5),
    dueIn: fc.integer({ min: 5, max: 60 }),
  }),
  fc.record({ kind: fc.constant('check'), gap: fc.nat(60) }),
);

function history(steps: Step[]): { events: TransactionEvent[]; last: number } {
  const events: TransactionEvent[] = [requested];
  let time = 0;
  let attempt = 0;
  let checks = 0;
  for (const s of steps) {
    time += s.gap;
    if (s.kind === 'start') events.push(started(++attempt, time));
    if (attempt === 0) continue;
    if (s.kind === 'accept')
      events.push({ type: 'ProviderAccepted', data: { attempt, at: at(time) } });
    if (s.kind === 'lost')
      events.push({ type: 'ProviderAttemptLost', data: { attempt, at: at(time) } });
    if (s.kind === 'timeout') events.push(timedOut(attempt, time, s.reason));
    if (s.kind === 'schedule') events.push(scheduled(attempt, ++checks, time + s.dueIn));
    if (s.kind === 'check') {
      events.push({
        type: 'StatusChecked',
        data: { attempt, checkNumber: checks, result: 'pending', at: at(time) },
      });
    }
  }
  return { events, last: time };
}

const percentilesOrNone = fc.option(
  fc
    .tuple(fc.nat(600_000), fc.nat(600_000), fc.nat(600_000), fc.nat(600_000))
    .map((values) => values.sort((x, y) => x - y))
    .map(([p50, p90, p95, p99]) => ({ p50, p90, p95, p99 })),
);

describe('expected time, for any history and any measured figures', () => {
  it('is never earlier than the protocol allows, nor now, and likelyBy never after expectedBy', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 12 }),
        percentilesOrNone,
        percentilesOrNone,
        percentilesOrNone,
        percentilesOrNone,
        fc.nat(600),
        (steps, answerLatencyMs, webhookDelayMs, finalAfterTimeoutMs, timeToFinal, wait) => {
          const { events, last } = history(steps);
          const state = stateOf(events);
          const now = second(last + wait);
          const figures = {
            ...noFigures,
            answerLatencyMs,
            webhookDelayMs,
            finalAfterTimeoutMs,
            timeToFinalMs: { ...noFigures.timeToFinalMs, all: timeToFinal },
          };
          const expected = expectedTime(state, figures, policy, now);
          if (!expected) return;
          const likelyBy = Date.parse(expected.likelyBy);
          const expectedBy = Date.parse(expected.expectedBy);
          // The protocol's floor: after a timeout with no answer, only a status check settles
          // the attempt, and none is due before the base delay or before the one scheduled.
          const attempt = state.attempts.at(-1);
          let floor = now;
          if (attempt?.outcome === 'ambiguous' && attempt.settledAt) {
            floor = Math.max(floor, Date.parse(attempt.settledAt) + policy.checkBaseDelayMs);
            if (state.nextCheck) floor = Math.max(floor, Date.parse(state.nextCheck.dueAt));
          }
          expect(likelyBy).toBeGreaterThanOrEqual(floor);
          expect(expectedBy).toBeGreaterThanOrEqual(likelyBy);
        },
      ),
    );
  });
});
