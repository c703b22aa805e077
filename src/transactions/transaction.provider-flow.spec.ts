import { SubmissionResult, TransactionCommand } from './transaction.commands';
import { decide, nextCheckDueAt } from './transaction.decider';
import { ResolutionNotAllowedError } from './transaction.errors';
import { TransactionEvent } from './transaction.events';
import { fold } from './transaction.state';
import {
  T0,
  at,
  policy,
  requested,
  reserved,
  scheduled,
  started,
  timedOut,
} from '../../test/support/transaction-history';

const confirmed = (status: 'SUCCEEDED' | 'FAILED', second: number): TransactionEvent => ({
  type: 'StatusConfirmed',
  data: {
    status,
    source: 'submission',
    providerStatus: status === 'SUCCEEDED' ? 'completed' : 'declined',
    reason: null,
    at: at(second),
  },
});

const report = (
  status: 'completed' | 'declined' | 'pending',
  second: number,
  reportId: string | null = null,
): TransactionCommand => ({
  type: 'RecordProviderReport',
  status,
  source: 'webhook',
  at: at(second),
  reportId,
});

function given(...events: TransactionEvent[]) {
  return { when: (command: TransactionCommand) => decide(command, fold(events)) };
}

const check = (
  attempt: number,
  checkNumber: number,
  result: 'pending' | 'completed' | 'declined' | 'not_found' | 'rate_limited' | 'error',
  second: number,
  retryAfterMs: number | null = null,
): TransactionCommand => ({
  type: 'RecordStatusCheck',
  attempt,
  checkNumber,
  result,
  retryAfterMs,
  at: at(second),
  jitter: 0.5,
  policy,
});

/** Support settles a case at `second`, as the resolve route asks. */
const resolve = (status: 'SUCCEEDED' | 'FAILED', second: number): TransactionCommand => ({
  type: 'ResolveBySupport',
  status,
  note: 'confirmed with the provider by phone',
  providerStatus: null,
  at: at(second),
});

describe('transaction decider: getting through the provider', () => {
  describe('starting a submission (the intent record)', () => {
    it('given a requested transaction, when attempt 1 starts with its hold, then the hold and the intent are recorded in one append', () => {
      expect(
        given(requested).when({
          type: 'StartSubmission',
          attempt: 1,
          at: at(1),
          policy,
          heldAmount: 2500,
        }),
      ).toEqual([reserved(1), started(1, 1)]);
    });

    it('given a requested transaction, when attempt 1 would start without a hold, then nothing: no submission before the money is held', () => {
      expect(
        given(requested).when({
          type: 'StartSubmission',
          attempt: 1,
          at: at(1),
          policy,
          heldAmount: null,
        }),
      ).toEqual([]);
    });

    it('given a requested transaction, when the hold found is for another amount, then nothing', () => {
      expect(
        given(requested).when({
          type: 'StartSubmission',
          attempt: 1,
          at: at(1),
          policy,
          heldAmount: 2499,
        }),
      ).toEqual([]);
    });

    it('given the hold recorded and attempt 1 lost, when attempt 2 starts, then only the intent is recorded', () => {
      const lost: TransactionEvent = {
        type: 'ProviderAttemptLost',
        data: { attempt: 1, at: at(140) },
      };
      expect(
        given(requested, reserved(1), started(1, 1), timedOut(1, 31), lost).when({
          type: 'StartSubmission',
          attempt: 2,
          at: at(141),
          policy,
          heldAmount: null,
        }),
      ).toEqual([started(2, 141)]);
    });

    it('given attempt 1 already started, when attempt 1 starts again, then nothing: no second POST', () => {
      expect(
        given(requested, reserved(1), started(1, 1)).when({
          type: 'StartSubmission',
          attempt: 1,
          at: at(2),
          policy,
          heldAmount: 2500,
        }),
      ).toEqual([]);
    });

    it('given attempt 1 timed out but not proven lost, when attempt 2 would start, then nothing', () => {
      expect(
        given(requested, reserved(1), started(1, 1), timedOut(1, 31)).when({
          type: 'StartSubmission',
          attempt: 2,
          at: at(200),
          policy,
          heldAmount: 2500,
        }),
      ).toEqual([]);
    });

    it('given attempt 1 proven lost, when attempt 2 starts, then it is recorded', () => {
      const lost: TransactionEvent = {
        type: 'ProviderAttemptLost',
        data: { attempt: 1, at: at(140) },
      };
      expect(
        given(requested, reserved(1), started(1, 1), timedOut(1, 31), lost).when({
          type: 'StartSubmission',
          attempt: 2,
          at: at(141),
          policy,
          heldAmount: 2500,
        }),
      ).toEqual([started(2, 141)]);
    });

    it('never starts more attempts than allowed', () => {
      expect(
        given(requested).when({
          type: 'StartSubmission',
          attempt: 3,
          at: at(1),
          policy: { ...policy, maxAttempts: 2 },
          heldAmount: 2500,
        }),
      ).toEqual([]);
    });

    it('given a final transaction, starts nothing', () => {
      expect(
        given(requested, reserved(1), started(1, 1), confirmed('SUCCEEDED', 5)).when({
          type: 'StartSubmission',
          attempt: 2,
          at: at(6),
          policy,
          heldAmount: 2500,
        }),
      ).toEqual([]);
    });
  });

  describe('the submission response', () => {
    const submitResult = (result: SubmissionResult, second: number): TransactionCommand => ({
      type: 'RecordSubmissionResult',
      attempt: 1,
      result,
      at: at(second),
      jitter: 0,
      policy,
    });

    it('given attempt 1 in flight, when the provider answers completed, then SUCCEEDED from the submission', () => {
      const events = given(requested, reserved(1), started(1, 1)).when(
        submitResult({ kind: 'final', status: 'completed' }, 4),
      );
      expect(events).toEqual([
        {
          type: 'StatusConfirmed',
          data: {
            status: 'SUCCEEDED',
            source: 'submission',
            providerStatus: 'completed',
            reason: null,
            at: at(4),
          },
        },
      ]);
      expect(fold([requested, reserved(1), started(1, 1), ...events])).toMatchObject({
        status: 'SUCCEEDED',
        stage: 'final',
        finalSource: 'submission',
      });
    });

    it('when declined, then FAILED with reason declined', () => {
      const events = given(requested, reserved(1), started(1, 1)).when(
        submitResult({ kind: 'final', status: 'declined' }, 4),
      );
      expect(fold([requested, reserved(1), started(1, 1), ...events])).toMatchObject({
        status: 'FAILED',
        failureReason: 'declined',
      });
    });

    it('when a 504 arrives, then timed out (never failed) and a check is scheduled after it', () => {
      const events = given(requested, reserved(1), started(1, 1)).when(
        submitResult({ kind: 'ambiguous', reason: 'gateway_timeout', detail: '504' }, 31),
      );
      expect(events).toEqual([
        timedOut(1, 31),
        {
          type: 'StatusCheckScheduled',
          data: { attempt: 1, checkNumber: 1, dueAt: at(31), reason: 'submission_gateway_timeout' },
        },
      ]);
      expect(fold([requested, reserved(1), started(1, 1), ...events])).toMatchObject({
        status: 'PENDING',
        stage: 'checking',
      });
    });

    it('when the connection broke early, the first check still waits for the provider gateway timeout', () => {
      const [, schedule] = given(requested, reserved(1), started(1, 1)).when(
        submitResult({ kind: 'ambiguous', reason: 'connection', detail: 'reset' }, 2),
      );
      expect(schedule).toMatchObject({ data: { dueAt: at(31) } });
    });

    it('when pending, then accepted and a check scheduled', () => {
      const events = given(requested, reserved(1), started(1, 1)).when(
        submitResult({ kind: 'pending' }, 3),
      );
      expect(events.map((e) => e.type)).toEqual(['ProviderAccepted', 'StatusCheckScheduled']);
      expect(
        fold([requested, reserved(1), started(1, 1), ...events]).exists &&
          fold([requested, reserved(1), started(1, 1), ...events]),
      ).toMatchObject({
        stage: 'checking',
      });
    });

    it('given a webhook already confirmed the same status, when the response arrives, then nothing', () => {
      expect(
        given(requested, reserved(1), started(1, 1), confirmed('SUCCEEDED', 3)).when(
          submitResult({ kind: 'final', status: 'completed' }, 4),
        ),
      ).toEqual([]);
    });

    it('given the attempt was given up as interrupted, a late final response is still the truth', () => {
      const interrupted: TransactionEvent = {
        type: 'ProviderTimedOut',
        data: { attempt: 1, reason: 'interrupted', detail: 'lease lost', at: at(20) },
      };
      const events = given(
        requested,
        reserved(1),
        started(1, 1),
        interrupted,
        scheduled(1, 1, 31),
      ).when(submitResult({ kind: 'final', status: 'declined' }, 25));
      expect(events).toMatchObject([
        { type: 'StatusConfirmed', data: { status: 'FAILED', source: 'submission' } },
      ]);
    });
  });

  describe('status checks', () => {
    const checking = [requested, reserved(0), started(1, 0), timedOut(1, 30), scheduled(1, 1, 35)];

    it('when a check finds completed, then SUCCEEDED from the status check', () => {
      expect(given(...checking).when(check(1, 1, 'completed', 35))).toEqual([
        {
          type: 'StatusChecked',
          data: { attempt: 1, checkNumber: 1, result: 'completed', at: at(35) },
        },
        {
          type: 'StatusConfirmed',
          data: {
            status: 'SUCCEEDED',
            source: 'status_check',
            providerStatus: 'completed',
            reason: null,
            at: at(35),
          },
        },
      ]);
    });

    it('when a check finds nothing inside the late window, then the next one is scheduled, no sooner proof', () => {
      const [checked, next] = given(...checking).when(check(1, 1, 'not_found', 35));
      expect(checked.type).toBe('StatusChecked');
      expect(next).toMatchObject({ type: 'StatusCheckScheduled', data: { checkNumber: 2 } });
    });

    it('when a check finds nothing after the late window and margin, the attempt is proven lost', () => {
      // Timed out at 30 s: the POST arrived by then at the latest, so proof comes at 30 + 135.
      expect(given(...checking).when(check(1, 1, 'not_found', 164))).toMatchObject([
        { type: 'StatusChecked' },
        { type: 'StatusCheckScheduled' },
      ]);
      const events = given(...checking).when(check(1, 1, 'not_found', 165));
      expect(events.map((e) => e.type)).toEqual(['StatusChecked', 'ProviderAttemptLost']);
    });

    it('counts the late window from when the outcome became unknown, however long the POST took', () => {
      // Intent at 0, but our own timeout only at 60 s: the POST may have arrived at 59 s.
      const slow = [requested, reserved(0), started(1, 0), timedOut(1, 60), scheduled(1, 1, 150)];
      expect(
        given(...slow)
          .when(check(1, 1, 'not_found', 150))
          .map((e) => e.type),
      ).toEqual(['StatusChecked', 'StatusCheckScheduled']);
      expect(
        given(...slow)
          .when(check(1, 1, 'not_found', 195))
          .map((e) => e.type),
      ).toEqual(['StatusChecked', 'ProviderAttemptLost']);
    });

    it('when the last allowed attempt is proven lost, then FAILED provider_lost', () => {
      const lost: TransactionEvent = {
        type: 'ProviderAttemptLost',
        data: { attempt: 1, at: at(165) },
      };
      const second = [...checking, lost, started(2, 166), timedOut(2, 196), scheduled(2, 1, 331)];
      const events = given(...second).when(check(2, 1, 'not_found', 331));
      expect(events.map((e) => e.type)).toEqual([
        'StatusChecked',
        'ProviderAttemptLost',
        'StatusConfirmed',
      ]);
      expect(events[2]).toMatchObject({
        data: { status: 'FAILED', source: 'process_manager', reason: 'provider_lost' },
      });
    });

    it('when rate limited, the next check honours Retry-After', () => {
      const [, next] = given(...checking).when(check(1, 1, 'rate_limited', 35, 40_000));
      expect(Date.parse((next as { data: { dueAt: string } }).data.dueAt)).toBeGreaterThanOrEqual(
        T0 + 75_000,
      );
    });

    it('a check that was not the planned one is recorded but plans nothing', () => {
      expect(given(...checking).when(check(1, 7, 'not_found', 35))).toEqual([
        {
          type: 'StatusChecked',
          data: { attempt: 1, checkNumber: 7, result: 'not_found', at: at(35) },
        },
      ]);
    });

    it('given a final status, a contradicting check opens a reconciliation case, never overwrites', () => {
      const events = given(...checking, confirmed('SUCCEEDED', 34)).when(
        check(1, 1, 'declined', 35),
      );
      expect(events.map((e) => e.type)).toEqual([
        'StatusChecked',
        'ConflictingStatusReported',
        'ReconciliationRequired',
      ]);
      const state = fold([...checking, confirmed('SUCCEEDED', 34), ...events]);
      expect(state).toMatchObject({
        status: 'SUCCEEDED',
        stage: 'needs_reconciliation',
        reconciliation: 'conflicting_reports',
      });
    });
  });

  describe('webhooks', () => {
    it('given a pending transaction, a webhook confirms it', () => {
      expect(
        given(requested, reserved(0), started(1, 0)).when(report('declined', 12)),
      ).toMatchObject([{ type: 'StatusConfirmed', data: { status: 'FAILED', source: 'webhook' } }]);
    });

    it('a duplicate webhook changes nothing', () => {
      expect(
        given(requested, reserved(0), started(1, 0), confirmed('FAILED', 5)).when(
          report('declined', 12),
        ),
      ).toEqual([]);
    });

    it('a contradicting webhook opens one case; a second contradiction only adds the report', () => {
      const first = given(requested, reserved(0), started(1, 0), confirmed('FAILED', 5)).when(
        report('completed', 12),
      );
      expect(first.map((e) => e.type)).toEqual([
        'ConflictingStatusReported',
        'ReconciliationRequired',
      ]);
      // A second contradiction that is a new message (its own webhook-id), not a replay.
      const again = given(
        requested,
        reserved(0),
        started(1, 0),
        confirmed('FAILED', 5),
        ...first,
      ).when(report('completed', 13, 'msg_2'));
      expect(again.map((e) => e.type)).toEqual(['ConflictingStatusReported']);
    });

    it('an unsigned contradicting report replayed while its case is open changes nothing', () => {
      const history = [requested, reserved(0), started(1, 0), confirmed('FAILED', 5)];
      const first = given(...history).when(report('completed', 12));
      expect(given(...history, ...first).when(report('completed', 13))).toEqual([]);
    });

    it('a status check repeating a contradiction already recorded records only the check', () => {
      const history = [requested, reserved(0), started(1, 0), confirmed('FAILED', 5)];
      const first = given(...history).when(report('completed', 12));
      expect(given(...history, ...first).when(check(1, 1, 'completed', 40))).toEqual([
        {
          type: 'StatusChecked',
          data: { attempt: 1, checkNumber: 1, result: 'completed', at: at(40) },
        },
      ]);
    });
  });

  describe('a settled case and provider reports replayed', () => {
    /** Applies each command to the history so far, as the command handler does. */
    function run(history: TransactionEvent[], ...commands: TransactionCommand[]) {
      const events = [...history];
      for (const command of commands) events.push(...decide(command, fold(events)));
      return events;
    }

    it.each([
      ['unsigned', null],
      ['signed, redelivered with its webhook-id', 'msg_1'],
    ])(
      'given a %s contradiction settled by support, 20 replays of it change nothing',
      (_kind, reportId) => {
        const settled = run(
          [requested, reserved(0), started(1, 0), confirmed('SUCCEEDED', 5)],
          report('declined', 12, reportId),
          resolve('SUCCEEDED', 100),
        );
        const replays = Array.from({ length: 20 }, (_, i) => report('declined', 200 + i, reportId));
        const after = run(settled, ...replays);
        expect(after).toEqual(settled);
        expect(fold(after)).toMatchObject({
          status: 'SUCCEEDED',
          stage: 'final',
          reconciliation: null,
          finalSource: 'support',
        });
      },
    );

    it('given a settled case, the status it replaced reported again changes nothing', () => {
      const settled = run(
        [requested, reserved(0), started(1, 0), confirmed('SUCCEEDED', 5)],
        report('declined', 12),
        resolve('FAILED', 100),
      );
      expect(given(...settled).when(report('completed', 200))).toEqual([]);
    });

    it('given a settled case, a report the provider never made before reopens it', () => {
      const late: TransactionEvent = {
        type: 'ReconciliationRequired',
        data: { reason: 'deadline_exceeded', at: at(900) },
      };
      const settled = run([requested, reserved(0), started(1, 0), late], resolve('FAILED', 950));
      expect(given(...settled).when(report('completed', 1000))).toEqual([
        {
          type: 'ConflictingStatusReported',
          data: { reported: 'completed', source: 'webhook', confirmed: 'FAILED', at: at(1000) },
        },
        { type: 'ReconciliationRequired', data: { reason: 'conflicting_reports', at: at(1000) } },
      ]);
    });

    it.each([
      ['unsigned', null],
      ['signed', 'msg_1'],
    ])(
      'given a deadline case settled by support, a first %s report agreeing with the decision changes nothing',
      (_kind, reportId) => {
        const late: TransactionEvent = {
          type: 'ReconciliationRequired',
          data: { reason: 'deadline_exceeded', at: at(900) },
        };
        const settled = run([requested, reserved(0), started(1, 0), late], resolve('FAILED', 950));
        expect(given(...settled).when(report('declined', 1000, reportId))).toEqual([]);
        expect(fold(settled)).toMatchObject({ status: 'FAILED', reconciliation: null });
      },
    );

    it('given a settled case, a new signed message (a new webhook-id) reopens it', () => {
      const settled = run(
        [requested, reserved(0), started(1, 0), confirmed('SUCCEEDED', 5)],
        report('declined', 12, 'msg_1'),
        resolve('SUCCEEDED', 100),
      );
      expect(
        given(...settled)
          .when(report('declined', 200, 'msg_2'))
          .map((e) => e.type),
      ).toEqual(['ConflictingStatusReported', 'ReconciliationRequired']);
    });

    it('a signed report redelivered with the same webhook-id changes nothing, even a contradiction', () => {
      const history = [requested, reserved(0), started(1, 0), confirmed('FAILED', 5)];
      const first = given(...history).when(report('completed', 12, 'msg_1'));
      expect(first).toMatchObject([
        { type: 'ConflictingStatusReported', data: { reportId: 'msg_1' } },
        { type: 'ReconciliationRequired' },
      ]);
      expect(given(...history, ...first).when(report('completed', 13, 'msg_1'))).toEqual([]);
      expect(given(...history, ...first).when(report('completed', 13, 'msg_2'))).toHaveLength(1);
    });

    it('a pending webhook changes nothing', () => {
      expect(given(requested, reserved(0), started(1, 0)).when(report('pending', 12))).toEqual([]);
    });
  });

  describe('the deadline', () => {
    it('a transaction still pending at its deadline needs reconciliation, once', () => {
      const events = given(requested, reserved(0), started(1, 0), timedOut(1, 30)).when({
        type: 'ExpireDeadline',
        at: at(900),
      });
      expect(events).toEqual([
        { type: 'ReconciliationRequired', data: { reason: 'deadline_exceeded', at: at(900) } },
      ]);
      expect(given(requested, ...events).when({ type: 'ExpireDeadline', at: at(901) })).toEqual([]);
    });

    it('a final transaction ignores its deadline', () => {
      expect(
        given(requested, confirmed('SUCCEEDED', 5)).when({ type: 'ExpireDeadline', at: at(900) }),
      ).toEqual([]);
    });

    it('a late final status settles a deadline case', () => {
      const late: TransactionEvent = {
        type: 'ReconciliationRequired',
        data: { reason: 'deadline_exceeded', at: at(900) },
      };
      expect(fold([requested, late, confirmed('SUCCEEDED', 950)])).toMatchObject({
        stage: 'final',
        reconciliation: null,
      });
    });
  });

  describe('the check schedule', () => {
    const attempt = {
      number: 1,
      startedAt: at(0),
      outcome: 'ambiguous' as const,
      settledAt: null,
      sendBy: null,
      checks: 0,
    };

    it('grows exponentially up to the cap, with full jitter', () => {
      const delay = (n: number, jitter: number) =>
        nextCheckDueAt(attempt, n, T0 + 40_000, jitter, { ...policy, lateWindowMs: 10_000_000 }) -
        (T0 + 40_000);
      expect([1, 2, 3, 4, 5, 6].map((n) => delay(n, 0.999))).toEqual([
        4995, 9990, 19980, 39960, 59940, 59940,
      ]);
      expect(delay(4, 0)).toBe(0);
    });

    it('never schedules past the moment a 404 becomes proof, while before it', () => {
      expect(nextCheckDueAt(attempt, 6, T0 + 130_000, 0.99, policy)).toBe(T0 + 135_000);
    });
  });

  describe('resolution by support', () => {
    const conflicted: TransactionEvent[] = [
      requested,
      reserved(0),
      started(1, 0),
      confirmed('SUCCEEDED', 5),
      {
        type: 'ConflictingStatusReported',
        data: { reported: 'declined', source: 'webhook', confirmed: 'SUCCEEDED', at: at(12) },
      },
      { type: 'ReconciliationRequired', data: { reason: 'conflicting_reports', at: at(12) } },
    ];

    it('given a contradiction, support may set the status, and the event keeps what it replaced', () => {
      const events = given(...conflicted).when(resolve('FAILED', 100));
      expect(events).toEqual([
        {
          type: 'ResolvedBySupport',
          data: {
            status: 'FAILED',
            previousStatus: 'SUCCEEDED',
            reconciliation: 'conflicting_reports',
            note: 'confirmed with the provider by phone',
            providerStatus: null,
            at: at(100),
          },
        },
      ]);
      expect(fold([...conflicted, ...events])).toMatchObject({
        status: 'FAILED',
        stage: 'final',
        reconciliation: null,
        finalSource: 'support',
      });
    });

    it('given a transaction past its deadline, support may settle it', () => {
      const late: TransactionEvent = {
        type: 'ReconciliationRequired',
        data: { reason: 'deadline_exceeded', at: at(900) },
      };
      expect(
        given(requested, reserved(0), started(1, 0), late).when(resolve('SUCCEEDED', 950)),
      ).toHaveLength(1);
    });

    it('given a transaction never sent past its deadline, support may only fail it: nothing was paid', () => {
      const late: TransactionEvent = {
        type: 'ReconciliationRequired',
        data: { reason: 'deadline_exceeded', at: at(900) },
      };
      expect(() => given(requested, late).when(resolve('SUCCEEDED', 950))).toThrow(
        /never sent to the provider/,
      );
      expect(given(requested, late).when(resolve('FAILED', 950))).toHaveLength(1);
    });

    it('a confirmed status with no case open is never overwritten', () => {
      expect(() =>
        given(requested, confirmed('SUCCEEDED', 5)).when(resolve('FAILED', 100)),
      ).toThrow(ResolutionNotAllowedError);
      expect(() => given(requested).when(resolve('FAILED', 100))).toThrow(
        ResolutionNotAllowedError,
      );
    });
  });
});
