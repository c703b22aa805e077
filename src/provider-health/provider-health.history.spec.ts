import fc from 'fast-check';
import {
  type ProviderHealthThresholds,
  measureProviderHealth,
  providerHealthState,
  silenceOf,
} from './provider-health';
import {
  bucketStarts,
  providerHealthPerBucket,
  providerHealthSpell,
} from './provider-health.history';
import type { Observation } from './provider-observations';

const MINUTE = 60_000;
/** A minute boundary: buckets start on multiples of their length. */
const T0 = Date.parse('2026-12-05T12:00:00.000Z');
const thresholds: ProviderHealthThresholds = {
  minSubmissions: 3,
  slowAnswerP90Ms: 15_000,
  degradedTimeoutShare: 0.3,
  outageSilenceMs: 60_000,
  outageMinUnanswered: 3,
};

/** One answer of `ms` every 10 s over [from, to). */
function answersEvery10s(from: number, to: number, ms: number): Observation[] {
  const observations: Observation[] = [];
  for (let at = from; at < to; at += 10_000) observations.push({ kind: 'answer', at, ms });
  return observations;
}

describe('provider health history', () => {
  it('lists every bucket start from the one holding `from` to the one holding `to`', () => {
    expect(bucketStarts(T0 + 30_000, T0 + 2 * MINUTE, MINUTE)).toEqual([
      T0,
      T0 + MINUTE,
      T0 + 2 * MINUTE,
    ]);
  });

  it('measures each bucket on its own observations: [start, start + bucket), empty ones included', () => {
    const buckets = providerHealthPerBucket(
      [
        { kind: 'answer', at: T0, ms: 1000 },
        { kind: 'answer', at: T0 + MINUTE - 1, ms: 3000 },
        { kind: 'no_answer', at: T0 + 5000, cause: 'gateway' },
        { kind: 'no_answer', at: T0 + 6000, cause: 'own' },
        { kind: 'check', at: T0 + 7000, rateLimited: true },
        { kind: 'check', at: T0 + 8000, rateLimited: false },
        // The next minute's first instant, and a minute with nothing.
        { kind: 'answer', at: T0 + MINUTE, ms: 20_000 },
        // Outside [from, to]: left out.
        { kind: 'answer', at: T0 + 4 * MINUTE, ms: 99_000 },
      ],
      T0,
      T0 + 2 * MINUTE + 1,
      MINUTE,
    );
    expect(buckets).toEqual([
      {
        at: T0,
        submissions: 4,
        answerLatencyP90Ms: 3000,
        gatewayTimeoutShare: 0.25,
        statusChecks: 2,
        rateLimitedChecks: 1,
      },
      {
        at: T0 + MINUTE,
        submissions: 1,
        answerLatencyP90Ms: 20_000,
        gatewayTimeoutShare: 0,
        statusChecks: 0,
        rateLimitedChecks: 0,
      },
      {
        at: T0 + 2 * MINUTE,
        submissions: 0,
        answerLatencyP90Ms: null,
        gatewayTimeoutShare: 0,
        statusChecks: 0,
        rateLimitedChecks: 0,
      },
    ]);
  });

  describe('since when the state holds', () => {
    const SHORT_WINDOW = 2 * MINUTE;
    /** Evaluations 10 s apart from the first observation (at T0) to `now`. */
    const spell = (observations: Observation[], now: number) =>
      providerHealthSpell(observations, now, 0, SHORT_WINDOW, thresholds, (now - T0) / 10_000);

    it('given fast answers then slow ones, when asked, then slow since the first step the short window was slow', () => {
      const observations = [
        ...answersEvery10s(T0, T0 + 10 * MINUTE, 1000),
        ...answersEvery10s(T0 + 10 * MINUTE, T0 + 15 * MINUTE, 30_000),
      ];
      const now = T0 + 15 * MINUTE;
      const { state, since } = spell(observations, now);
      expect(state).toBe('slow');
      // 12 answers in the 2-minute window, 10% may be slow before the p90 is: the 2nd slow one.
      expect(since).toBe(T0 + 10 * MINUTE + 10_000);
    });

    it('given one state over all that was kept, when asked, then no start is known', () => {
      const observations = answersEvery10s(T0, T0 + 5 * MINUTE, 1000);
      expect(spell(observations, T0 + 5 * MINUTE)).toEqual({ state: 'normal', since: null });
    });

    it('evaluates the oldest observation itself when the steps do not land on it', () => {
      // Slow from the 3rd answer on: at T0 alone it was normal (one answer). 7 evaluations over
      // 12 minutes are 102,858 ms apart: the 7th would fall before T0, so it is made at T0.
      const observations = answersEvery10s(T0, T0 + 12 * MINUTE, 30_000);
      expect(
        providerHealthSpell(observations, T0 + 12 * MINUTE, 0, SHORT_WINDOW, thresholds, 7),
      ).toEqual({ state: 'slow', since: T0 + 12 * MINUTE - 6 * 102_858 });
    });

    it('given nothing observed, when asked, then normal with no start', () => {
      expect(spell([], T0)).toEqual({ state: 'normal', since: null });
    });

    it('given an outage, when the provider answers again, then normal since that answer', () => {
      const observations: Observation[] = [
        ...answersEvery10s(T0, T0 + MINUTE, 1000),
        ...[0, 1, 2, 3].map((i) => ({
          kind: 'no_answer' as const,
          at: T0 + MINUTE + i * 10_000,
          cause: 'gateway' as const,
        })),
        // Silent from T0 + 1 min on: an outage from 2 min, until this answer at 4 min.
        { kind: 'answer', at: T0 + 4 * MINUTE, ms: 1000 },
      ];
      expect(spell(observations, T0 + 4 * MINUTE - 1).state).toBe('outage');
      const after = spell(observations, T0 + 4 * MINUTE + 30_000);
      expect(after.state).not.toBe('outage');
      expect(after.since).toBe(T0 + 4 * MINUTE);
    });

    it('does not look back before `notBefore`', () => {
      const observations = answersEvery10s(T0, T0 + 10 * MINUTE, 30_000);
      const now = T0 + 10 * MINUTE;
      expect(
        providerHealthSpell(observations, now, now - MINUTE, SHORT_WINDOW, thresholds, 6),
      ).toEqual({ state: 'slow', since: null });
    });
  });

  it('decides the state at every moment as the service does from everything observed by then', () => {
    // Mostly unanswered submissions, so that outages (a silence after an answer) are common.
    const observation: fc.Arbitrary<Observation> = fc.oneof(
      fc.record({
        kind: fc.constant('answer' as const),
        at: fc.integer({ min: 0, max: 600_000 }),
        ms: fc.integer({ min: 0, max: 30_000 }),
      }),
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('no_answer' as const),
          at: fc.integer({ min: 0, max: 600_000 }),
          cause: fc.constantFrom('gateway' as const, 'own' as const),
        }),
      },
    );
    fc.assert(
      fc.property(
        fc.array(observation, { maxLength: 60 }),
        fc.integer({ min: 0, max: 700_000 }),
        (observations, offset) => {
          const now = T0 + offset;
          const shifted = observations.map((o) => ({ ...o, at: T0 + o.at }));
          const known = shifted.filter((o) => o.at <= now);
          const expected = providerHealthState(
            measureProviderHealth(known, now, MINUTE),
            silenceOf(known, now),
            thresholds,
          );
          const { state, since } = providerHealthSpell(shifted, now, 0, MINUTE, thresholds, 20);
          expect(state).toBe(expected);
          if (since !== null) {
            const before = shifted.filter((o) => o.at <= since);
            expect(
              providerHealthState(
                measureProviderHealth(before, since, MINUTE),
                silenceOf(before, since),
                thresholds,
              ),
            ).toBe(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
