import fc from 'fast-check';
import {
  EXACT_BELOW_MS,
  ROUNDING_ERROR,
  compactObservations,
  countOf,
  roundedMs,
} from './observation-compaction';
import { measureProviderHealth } from './provider-health';
import type { Observation } from './provider-observations';

const T0 = Date.parse('2026-12-05T10:00:00.000Z');
const answer = (at: number, ms: number): Observation => ({ kind: 'answer', at, ms });

const observationArbitrary: fc.Arbitrary<Observation> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('answer' as const, 'webhook' as const),
    at: fc.integer({ min: T0, max: T0 + 600_000 }),
    ms: fc.integer({ min: 0, max: 3_600_000 }),
  }),
  fc.record({
    kind: fc.constant('no_answer' as const),
    at: fc.integer({ min: T0, max: T0 + 600_000 }),
    cause: fc.constantFrom('gateway' as const, 'own' as const, 'other' as const),
  }),
  fc.record({
    kind: fc.constant('check' as const),
    at: fc.integer({ min: T0, max: T0 + 600_000 }),
    rateLimited: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('final' as const),
    at: fc.integer({ min: T0, max: T0 + 600_000 }),
    path: fc.constantFrom('answered' as const, 'timed_out_then_found' as const),
    ms: fc.integer({ min: 0, max: 3_600_000 }),
    msAfterTimeout: fc.option(fc.integer({ min: 0, max: 3_600_000 })),
  }),
);

describe('roundedMs', () => {
  it(`given any duration, when rounded, then it is within ${ROUNDING_ERROR * 100}% of it, whole, exact below ${EXACT_BELOW_MS} ms, and rounding it again changes nothing`, () => {
    fc.assert(
      fc.property(fc.integer({ min: -86_400_000, max: 86_400_000 }), (ms) => {
        const rounded = roundedMs(ms);
        expect(Number.isInteger(rounded)).toBe(true);
        expect(Math.abs(rounded - ms)).toBeLessThanOrEqual(ROUNDING_ERROR * Math.abs(ms));
        if (Math.abs(ms) < EXACT_BELOW_MS) expect(rounded).toBe(ms);
        expect(roundedMs(rounded)).toBe(rounded);
      }),
    );
  });
});

describe('compactObservations', () => {
  it('given answers in two 5 s intervals and one after the cut, when compacted, then each interval keeps one counted answer per rounded latency at its latest time, and the later one is untouched', () => {
    const observations = [
      answer(T0 + 1_000, 2_000),
      answer(T0 + 3_000, 2_001),
      answer(T0 + 4_000, 9_000),
      answer(T0 + 6_000, 2_000),
      answer(T0 + 10_500, 2_000),
    ];

    const compacted = compactObservations(observations, T0 + 10_000, 5_000);

    expect(compacted).toEqual([
      { kind: 'answer', at: T0 + 3_000, ms: roundedMs(2_000), count: 2 },
      { kind: 'answer', at: T0 + 4_000, ms: roundedMs(9_000) },
      { kind: 'answer', at: T0 + 6_000, ms: roundedMs(2_000) },
      answer(T0 + 10_500, 2_000),
    ]);
  });

  it('given no-answers of two causes and checks with and without a 429, when compacted, then they stay apart by cause and by 429', () => {
    const observations: Observation[] = [
      { kind: 'no_answer', at: T0, cause: 'gateway' },
      { kind: 'no_answer', at: T0 + 1, cause: 'own' },
      { kind: 'no_answer', at: T0 + 2, cause: 'gateway' },
      { kind: 'check', at: T0 + 3, rateLimited: true },
      { kind: 'check', at: T0 + 4, rateLimited: false },
    ];

    const compacted = compactObservations(observations, T0 + 60_000, 60_000);

    expect(compacted).toEqual([
      { kind: 'no_answer', at: T0 + 1, cause: 'own' },
      { kind: 'no_answer', at: T0 + 2, cause: 'gateway', count: 2 },
      { kind: 'check', at: T0 + 3, rateLimited: true },
      { kind: 'check', at: T0 + 4, rateLimited: false },
    ]);
  });

  it('given any observations, when compacted once or twice, then the result is the same, counts per kind and interval are kept, and percentiles move by at most the rounding error', () => {
    fc.assert(
      fc.property(fc.array(observationArbitrary, { maxLength: 200 }), (observations) => {
        const before = T0 + 300_000;
        const once = compactObservations(observations, before, 5_000);
        const twice = compactObservations(once, before, 5_000);
        expect(twice).toEqual(once);

        const countPer = (kept: readonly Observation[]) => {
          const counts = new Map<string, number>();
          for (const o of kept) {
            const key = `${o.kind}:${Math.floor(o.at / 5_000)}`;
            counts.set(key, (counts.get(key) ?? 0) + countOf(o));
          }
          return counts;
        };
        expect(countPer(once)).toEqual(countPer(observations));

        const now = T0 + 600_000;
        const exact = measureProviderHealth(observations, now, 600_001);
        const approximate = measureProviderHealth(once, now, 600_001);
        expect(approximate.submissions).toBe(exact.submissions);
        expect(approximate.statusChecks).toBe(exact.statusChecks);
        expect(approximate.gatewayTimeoutShare).toBe(exact.gatewayTimeoutShare);
        for (const key of ['p50', 'p90', 'p95', 'p99'] as const) {
          for (const [e, a] of [
            [exact.answerLatencyMs, approximate.answerLatencyMs],
            [exact.timeToFinalMs.all, approximate.timeToFinalMs.all],
            [exact.finalAfterTimeoutMs, approximate.finalAfterTimeoutMs],
          ]) {
            expect(a === null).toBe(e === null);
            if (e && a)
              expect(Math.abs(a[key] - e[key])).toBeLessThanOrEqual(ROUNDING_ERROR * e[key]);
          }
        }
      }),
    );
  });
});
