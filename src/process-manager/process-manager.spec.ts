import type { TransactionEvent } from '../transactions/transaction.events';
import { netChange, react } from './process-manager';
import { T0, at, requested } from '../../test/support/transaction-history';

const settings = { reconciliationDeadlineMs: 900_000, holdTtlMs: 4_500_000, notifyClient: false };
const confirmed: TransactionEvent = {
  type: 'StatusConfirmed',
  data: {
    status: 'SUCCEEDED',
    source: 'webhook',
    providerStatus: 'completed',
    reason: null,
    at: at(20),
  },
};

describe('process manager', () => {
  it("when a transaction is requested, then submit attempt 1 now, set its deadline and its hold's expiry check", () => {
    expect(react('tx-1', requested, settings)).toEqual([
      {
        kind: 'schedule',
        work: { transactionId: 'tx-1', kind: 'submit', dueAt: T0, payload: { attempt: 1 } },
      },
      {
        kind: 'schedule',
        work: { transactionId: 'tx-1', kind: 'deadline', dueAt: T0 + 900_000, payload: {} },
      },
      {
        kind: 'schedule',
        work: { transactionId: 'tx-1', kind: 'settle', dueAt: T0 + 4_500_000, payload: {} },
      },
    ]);
  });

  it('when a check is scheduled, then the check runs at the time the decider recorded', () => {
    const event: TransactionEvent = {
      type: 'StatusCheckScheduled',
      data: { attempt: 1, checkNumber: 3, dueAt: at(45), reason: 'after_not_found' },
    };
    expect(react('tx-1', event, settings)).toEqual([
      {
        kind: 'schedule',
        work: {
          transactionId: 'tx-1',
          kind: 'check',
          dueAt: T0 + 45_000,
          payload: { attempt: 1, checkNumber: 3 },
        },
      },
    ]);
  });

  it('when an attempt is proven lost, then the next attempt is submitted', () => {
    const lost: TransactionEvent = {
      type: 'ProviderAttemptLost',
      data: { attempt: 1, at: at(140) },
    };
    expect(react('tx-1', lost, settings)).toMatchObject([
      { kind: 'schedule', work: { kind: 'submit', dueAt: T0 + 140_000, payload: { attempt: 2 } } },
    ]);
  });

  it('when the status is final, then every pending step is cancelled, the hold settled now (and the client notified if configured)', () => {
    expect(react('tx-1', confirmed, settings)).toEqual([
      { kind: 'cancel', transactionId: 'tx-1', kinds: ['submit', 'check', 'deadline'] },
      {
        kind: 'schedule',
        work: { transactionId: 'tx-1', kind: 'settle', dueAt: T0 + 20_000, payload: {} },
      },
    ]);
    expect(react('tx-1', confirmed, { ...settings, notifyClient: true })).toContainEqual({
      kind: 'schedule',
      work: { transactionId: 'tx-1', kind: 'notify', dueAt: T0 + 20_000, payload: { delivery: 1 } },
    });
  });

  it('when a deadline case opens, then support owns it: every pending step is cancelled', () => {
    const deadline: TransactionEvent = {
      type: 'ReconciliationRequired',
      data: { reason: 'deadline_exceeded', at: at(900) },
    };
    expect(react('tx-1', deadline, settings)).toEqual([
      { kind: 'cancel', transactionId: 'tx-1', kinds: ['submit', 'check', 'deadline'] },
    ]);
  });

  it('when a contradiction opens a case on a final status, then nothing is cancelled: the client notice still goes', () => {
    const conflict: TransactionEvent = {
      type: 'ReconciliationRequired',
      data: { reason: 'conflicting_reports', at: at(30) },
    };
    expect(react('tx-1', conflict, { ...settings, notifyClient: true })).toEqual([]);
  });

  it('a plan made and cancelled within one batch is never stored; a plan made twice keeps the later time', () => {
    const reactions = [
      ...react('tx-1', requested, settings),
      ...react('tx-1', confirmed, settings),
    ];
    expect(netChange(reactions)).toEqual({
      schedule: [{ transactionId: 'tx-1', kind: 'settle', dueAt: T0 + 20_000, payload: {} }],
      cancel: [
        { transactionId: 'tx-1', kinds: ['submit'] },
        { transactionId: 'tx-1', kinds: ['deadline'] },
        { transactionId: 'tx-1', kinds: ['check'] },
      ],
    });
  });

  it('the latest plan for a step replaces the earlier one', () => {
    const first: TransactionEvent = {
      type: 'StatusCheckScheduled',
      data: { attempt: 1, checkNumber: 1, dueAt: at(31), reason: 'x' },
    };
    const second: TransactionEvent = {
      type: 'StatusCheckScheduled',
      data: { attempt: 1, checkNumber: 2, dueAt: at(40), reason: 'x' },
    };
    const change = netChange([
      ...react('tx-1', first, settings),
      ...react('tx-1', second, settings),
    ]);
    expect(change.schedule).toEqual([
      {
        transactionId: 'tx-1',
        kind: 'check',
        dueAt: T0 + 40_000,
        payload: { attempt: 1, checkNumber: 2 },
      },
    ]);
  });
});
