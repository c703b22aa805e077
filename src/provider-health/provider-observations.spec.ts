import type { TransactionEvent } from '../transactions/transaction.events';
import { T0, at, requested, started, timedOut } from '../../test/support/transaction-history';
import { Observation, ObservedTransaction, observe } from './provider-observations';

function observeAll(events: TransactionEvent[]): {
  tracked: ObservedTransaction | null;
  observations: Observation[];
} {
  let tracked: ObservedTransaction | null = null;
  const observations: Observation[] = [];
  for (const event of events) {
    const next = observe(tracked, event);
    tracked = next.tracked;
    observations.push(...next.observations);
  }
  return { tracked, observations };
}

const ms = (second: number) => T0 + second * 1000;
const confirmed = (second: number, source: 'submission' | 'webhook' | 'status_check') =>
  ({
    type: 'StatusConfirmed',
    data: {
      status: 'SUCCEEDED',
      source,
      providerStatus: 'completed',
      reason: null,
      at: at(second),
    },
  }) as const;

describe('provider observations', () => {
  it('given a submission answered final, observes its latency and the answered path', () => {
    const { tracked, observations } = observeAll([
      requested,
      started(1, 1),
      confirmed(4, 'submission'),
    ]);
    expect(observations).toEqual([
      { kind: 'answer', at: ms(4), ms: 3000 },
      { kind: 'final', at: ms(4), path: 'answered', ms: 4000, msAfterTimeout: null },
    ]);
    expect(tracked).toBeNull();
  });

  it('given a 504 then a status check that finds it, observes both and the timed-out path', () => {
    const { observations } = observeAll([
      requested,
      started(1, 0),
      timedOut(1, 30),
      {
        type: 'StatusChecked',
        data: { attempt: 1, checkNumber: 1, result: 'rate_limited', at: at(35) },
      },
      confirmed(50, 'status_check'),
    ]);
    expect(observations).toEqual([
      { kind: 'no_answer', at: ms(30), cause: 'gateway' },
      { kind: 'check', at: ms(35), rateLimited: true },
      {
        kind: 'final',
        at: ms(50),
        path: 'timed_out_then_found',
        ms: 50_000,
        msAfterTimeout: 20_000,
      },
    ]);
  });

  it('given our own timeout, a lost attempt and a webhook, observes the lost path', () => {
    const { observations } = observeAll([
      requested,
      started(1, 0),
      timedOut(1, 35, 'timeout', 'no answer'),
      { type: 'ProviderAttemptLost', data: { attempt: 1, at: at(170) } },
      started(2, 171),
      { type: 'ProviderAccepted', data: { attempt: 2, at: at(172) } },
      confirmed(190, 'webhook'),
    ]);
    expect(observations).toEqual([
      { kind: 'no_answer', at: ms(35), cause: 'own' },
      { kind: 'lost', at: ms(170) },
      { kind: 'answer', at: ms(172), ms: 1000 },
      { kind: 'webhook', at: ms(190), ms: 19_000 },
      {
        kind: 'final',
        at: ms(190),
        path: 'lost_then_resubmitted',
        ms: 190_000,
        msAfterTimeout: 155_000,
      },
    ]);
  });

  it('given a transaction refused for funds, observes nothing of the provider', () => {
    const refused = {
      type: 'StatusConfirmed',
      data: {
        status: 'FAILED',
        source: 'ledger',
        providerStatus: null,
        reason: 'insufficient_funds',
        at: at(1),
      },
    } as const;
    expect(observeAll([requested, refused]).observations).toEqual([]);
  });
});
