import {
  ProviderHealthThresholds,
  measureProviderHealth,
  providerHealthState,
  providerNotice,
  silenceOf,
} from './provider-health';
import type { Observation } from './provider-observations';

const NOW = Date.parse('2026-12-05T10:00:00.000Z');
const WINDOW = 300_000;
const thresholds: ProviderHealthThresholds = {
  minSubmissions: 5,
  slowAnswerP90Ms: 15_000,
  degradedTimeoutShare: 0.3,
  outageSilenceMs: 60_000,
  outageMinUnanswered: 3,
};

/** `count` answers of `ms` each, one per second ending `agoMs` before NOW. */
function answers(count: number, ms: number, agoMs = 0): Observation[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'answer' as const,
    at: NOW - agoMs - i * 1000,
    ms,
  }));
}

function unanswered(count: number, cause: 'gateway' | 'own', agoMs = 0): Observation[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'no_answer' as const,
    at: NOW - agoMs - i * 1000,
    cause,
  }));
}

function stateOf(observations: Observation[]) {
  return providerHealthState(
    measureProviderHealth(observations, NOW, WINDOW),
    silenceOf(observations, NOW),
    thresholds,
  );
}

describe('provider health', () => {
  it('measures percentiles, shares, checks and time to final per path within the window', () => {
    const figures = measureProviderHealth(
      [
        ...answers(9, 1000),
        ...answers(1, 20_000),
        ...unanswered(2, 'gateway'),
        ...unanswered(1, 'own'),
        { kind: 'answer', at: NOW - WINDOW - 1, ms: 99_000 },
        { kind: 'check', at: NOW, rateLimited: true },
        { kind: 'check', at: NOW, rateLimited: false },
        { kind: 'lost', at: NOW },
        { kind: 'webhook', at: NOW, ms: 12_000 },
        { kind: 'final', at: NOW, path: 'answered', ms: 2000, msAfterTimeout: null },
        {
          kind: 'final',
          at: NOW,
          path: 'timed_out_then_found',
          ms: 60_000,
          msAfterTimeout: 30_000,
        },
      ],
      NOW,
      WINDOW,
    );
    expect(figures).toEqual({
      windowMs: WINDOW,
      submissions: 13,
      answerLatencyMs: { p50: 1000, p90: 1000, p95: 20_000, p99: 20_000 },
      gatewayTimeoutShare: 2 / 13,
      ownTimeoutShare: 1 / 13,
      lostAttempts: 1,
      webhookDelayMs: { p50: 12_000, p90: 12_000, p95: 12_000, p99: 12_000 },
      statusChecks: 2,
      rateLimitedChecks: 1,
      timeToFinalMs: {
        answered: { p50: 2000, p90: 2000, p95: 2000, p99: 2000 },
        timed_out_then_found: { p50: 60_000, p90: 60_000, p95: 60_000, p99: 60_000 },
        lost_then_resubmitted: null,
        all: { p50: 2000, p90: 60_000, p95: 60_000, p99: 60_000 },
      },
      finalAfterTimeoutMs: { p50: 30_000, p90: 30_000, p95: 30_000, p99: 30_000 },
    });
  });

  it('is normal given quick answers and the usual share of 504s', () => {
    expect(stateOf([...answers(18, 2000), ...unanswered(2, 'gateway')])).toBe('normal');
  });

  it('is normal given too few submissions to judge, however slow', () => {
    expect(stateOf(answers(4, 30_000))).toBe('normal');
  });

  it('is slow when the p90 answer latency reaches its threshold', () => {
    expect(stateOf([...answers(8, 2000), ...answers(2, 15_000)])).toBe('slow');
  });

  it('is degraded when 504s and own timeouts together reach their share', () => {
    expect(
      stateOf([...answers(7, 2000), ...unanswered(2, 'gateway'), ...unanswered(1, 'own')]),
    ).toBe('degraded');
  });

  it('is an outage when nothing was answered for a while and submissions went unanswered', () => {
    expect(stateOf([...answers(10, 2000, 61_000), ...unanswered(3, 'own')])).toBe('outage');
  });

  it('is no outage while the last answer is recent, nor when too few went unanswered', () => {
    expect(stateOf([...answers(10, 2000, 59_000), ...unanswered(3, 'own')])).not.toBe('outage');
    expect(stateOf([...answers(10, 2000, 61_000), ...unanswered(2, 'own')])).not.toBe('outage');
  });

  it('recovers to normal once answers come quickly again', () => {
    const storm = unanswered(10, 'gateway', 301_000);
    expect(stateOf([...storm, ...answers(10, 2000)])).toBe('normal');
  });

  it('tells the customer nothing when normal, and how long most payments take otherwise', () => {
    expect(providerNotice('normal', 60_000)).toBeNull();
    expect(providerNotice('slow', 200_000)).toEqual({
      code: 'provider_slow',
      message: 'The payment provider is slower than usual; most payments finish within 4 minutes.',
    });
    expect(providerNotice('degraded', 30_000)?.message).toMatch(/within 1 minute\.$/);
    expect(providerNotice('outage', 30_000)).toEqual({
      code: 'provider_outage',
      message:
        'The payment provider is not answering at the moment; payments will complete once it is back.',
    });
    expect(providerNotice('slow', null)?.message).toBe(
      'The payment provider is slower than usual.',
    );
  });
});
