/**
 * One request, one charge: each guard of the decider tested in a history where it alone gives
 * the answer, so that breaking any one of them fails a test (see `npm run test:mutation`).
 */
import { TransactionCommand } from './transaction.commands';
import { decide } from './transaction.decider';
import { StatusCheckResult, TransactionEvent } from './transaction.events';
import { ExistingTransaction, TransactionState, fold } from './transaction.state';
import {
  at,
  policy,
  requested,
  reserved,
  scheduled,
  started,
  timedOut,
} from '../../test/support/transaction-history';

const accepted = (attempt: number, second: number): TransactionEvent => ({
  type: 'ProviderAccepted',
  data: { attempt, at: at(second) },
});
const lost = (attempt: number, second: number): TransactionEvent => ({
  type: 'ProviderAttemptLost',
  data: { attempt, at: at(second) },
});
const deadlineCase = (second: number): TransactionEvent => ({
  type: 'ReconciliationRequired',
  data: { reason: 'deadline_exceeded', at: at(second) },
});

const startSubmission = (attempt: number, second: number, maxAttempts = 2): TransactionCommand => ({
  type: 'StartSubmission',
  attempt,
  at: at(second),
  policy: { ...policy, maxAttempts },
  heldAmount: 2500,
});
const submissionResult = (
  attempt: number,
  result: 'pending' | 'timeout',
  second: number,
): TransactionCommand => ({
  type: 'RecordSubmissionResult',
  attempt,
  result:
    result === 'pending'
      ? { kind: 'pending' }
      : { kind: 'ambiguous', reason: 'timeout', detail: 'no answer in 10 s' },
  at: at(second),
  jitter: 0.5,
  policy,
});
const check = (
  attempt: number,
  checkNumber: number,
  result: StatusCheckResult,
  second: number,
): TransactionCommand => ({
  type: 'RecordStatusCheck',
  attempt,
  checkNumber,
  result,
  retryAfterMs: result === 'rate_limited' ? 1_000 : null,
  at: at(second),
  jitter: 0.5,
  policy,
});

/** given past events, when a command: the events decided and the state they fold into. */
function given(...history: TransactionEvent[]) {
  return {
    when(command: TransactionCommand): { events: TransactionEvent[]; state: ExistingTransaction } {
      const events = decide(command, fold(history));
      return { events, state: existing(fold([...history, ...events])) };
    },
  };
}

function existing(state: TransactionState): ExistingTransaction {
  if (!state.exists) throw new Error('expected a transaction');
  return state;
}

// Attempt 1 answered 504 at 30 s: a 404 proves it lost from 30 + 120 + 15 = 165 s on.
const attempt1Checking = [
  requested,
  reserved(0),
  started(1, 0),
  timedOut(1, 30),
  scheduled(1, 1, 165),
];
const checked = (attempt: number, checkNumber: number, second: number): TransactionEvent => ({
  type: 'StatusChecked',
  data: { attempt, checkNumber, result: 'not_found', at: at(second) },
});
// Attempt 1 proven lost by its first check; attempt 2 answered 504 at 196 s (proof at 331 s).
const lastAttemptChecking = [
  ...attempt1Checking,
  checked(1, 1, 165),
  lost(1, 165),
  started(2, 166),
  timedOut(2, 196),
  scheduled(2, 1, 331),
];

describe('one request, one charge: each guard on its own', () => {
  describe('only a 404 after the late window proves an attempt lost', () => {
    it.each<StatusCheckResult>(['pending', 'error', 'rate_limited'])(
      'given attempt 1 past its late window, when the planned check answers %s, then it is not lost: the next check is planned',
      (result) => {
        const { events, state } = given(...attempt1Checking).when(check(1, 1, result, 170));
        expect(events.map((e) => e.type)).toEqual(['StatusChecked', 'StatusCheckScheduled']);
        expect(state).toMatchObject({ status: 'PENDING', stage: 'checking' });
        expect(state.attempts).toMatchObject([{ number: 1, outcome: 'ambiguous' }]);
        expect(state.nextCheck).toMatchObject({ attempt: 1, checkNumber: 2 });
      },
    );

    it('given the last attempt past its late window, when the check answers pending, then the transaction is not failed', () => {
      const { events, state } = given(...lastAttemptChecking).when(check(2, 1, 'pending', 340));
      expect(events.map((e) => e.type)).toEqual(['StatusChecked', 'StatusCheckScheduled']);
      expect(state).toMatchObject({ status: 'PENDING', failureReason: null, finalizedAt: null });
      // Each attempt keeps its own outcome and count of checks.
      expect(state.attempts).toMatchObject([
        { number: 1, outcome: 'lost', checks: 1 },
        { number: 2, outcome: 'ambiguous', checks: 1 },
      ]);
    });
  });

  describe('a stalled worker may still send until its send deadline', () => {
    // The chaos run's case: attempt 1's worker stalled after its intent (lease expired, process
    // alive); another found the attempt unanswered at 1 s. The stalled POST may leave until the
    // send deadline (5 s), so the late window runs from 5 s: proof at 5 + 120 + 15 = 140 s.
    const interruptedEarly = [
      requested,
      reserved(0),
      started(1, 0),
      timedOut(1, 1, 'interrupted', 'lease lost'),
      scheduled(1, 1, 100),
    ];

    it('given attempt 1 interrupted before its send deadline, when a check answers 404 inside the window counted from that deadline, then it is not lost and the next check waits for the proof moment', () => {
      const { events, state } = given(...interruptedEarly).when(check(1, 1, 'not_found', 139));
      expect(events.map((e) => e.type)).toEqual(['StatusChecked', 'StatusCheckScheduled']);
      expect(state.attempts).toMatchObject([{ number: 1, outcome: 'ambiguous' }]);
      expect(state.nextCheck).toMatchObject({ checkNumber: 2, dueAt: at(140) });
    });

    it('given attempt 1 interrupted before its send deadline, when a check answers 404 once the window after the deadline is over, then it is lost', () => {
      const { events } = given(...interruptedEarly).when(check(1, 1, 'not_found', 140));
      expect(events.map((e) => e.type)).toContain('ProviderAttemptLost');
    });

    it('given an intent recorded before send deadlines existed, then the window runs from when the attempt became unknown, as it did then', () => {
      const legacyStart: TransactionEvent = {
        type: 'ProviderSubmissionStarted',
        data: { attempt: 1, startedAt: at(0) },
      };
      const history = [
        requested,
        reserved(0),
        legacyStart,
        timedOut(1, 1, 'interrupted', 'lease lost'),
        scheduled(1, 1, 100),
      ];
      const { events } = given(...history).when(check(1, 1, 'not_found', 136));
      expect(events.map((e) => e.type)).toContain('ProviderAttemptLost');
    });

    it('given no attempt yet, when attempt 1 starts, then its intent carries the send deadline', () => {
      const { events } = given(requested).when(startSubmission(1, 10));
      expect(events.at(-1)).toEqual(started(1, 10));
      expect(events.at(-1)).toMatchObject({ data: { sendBy: at(15) } });
    });
  });

  describe('never more attempts than the configured maximum', () => {
    it('given attempt 2 proven lost while 3 were allowed, when attempt 3 would start under a maximum of 2, then nothing', () => {
      // The maximum was lowered by a restart between the loss and the queued submission.
      const history = [
        requested,
        reserved(0),
        started(1, 0),
        timedOut(1, 30),
        lost(1, 165),
        started(2, 166),
        timedOut(2, 196),
        lost(2, 331),
      ];
      const { events, state } = given(...history).when(startSubmission(3, 332, 2));
      expect(events).toEqual([]);
      expect(state.attempts.map((a) => a.number)).toEqual([1, 2]);
    });
  });

  describe('attempts start in order, each once', () => {
    it('given attempt 1 proven lost, when a redelivered "submit attempt 1" arrives, then no second attempt 1', () => {
      const history = [requested, reserved(0), started(1, 0), timedOut(1, 30), lost(1, 165)];
      const { events, state } = given(...history).when(startSubmission(1, 166));
      expect(events).toEqual([]);
      expect(state.attempts).toMatchObject([{ number: 1, outcome: 'lost' }]);
    });

    it('given no attempt yet, when attempt 2 would start, then nothing: attempts are never skipped', () => {
      const { events, state } = given(requested).when(startSubmission(2, 1));
      expect(events).toEqual([]);
      expect(state).toMatchObject({ attempts: [], stage: 'requested' });
    });
  });

  describe('a response belongs to its own attempt', () => {
    it('given attempt 2 in flight, when the late 202 of attempt 1 arrives, then it is not applied to attempt 2', () => {
      const history = [
        requested,
        reserved(0),
        started(1, 0),
        timedOut(1, 30),
        lost(1, 165),
        started(2, 166),
      ];
      const { events, state } = given(...history).when(submissionResult(1, 'pending', 170));
      expect(events).toEqual([]);
      expect(state.attempts).toMatchObject([
        { number: 1, outcome: 'lost' },
        { number: 2, outcome: 'in_flight', settledAt: null },
      ]);
      expect(state.nextCheck).toBeNull();
    });

    it('given no attempt started, when a submission response arrives, then nothing', () => {
      const { events, state } = given(requested).when(submissionResult(1, 'timeout', 5));
      expect(events).toEqual([]);
      expect(state).toMatchObject({ attempts: [], nextCheck: null });
    });
  });

  describe('a pending or ambiguous answer after the outcome is known changes nothing', () => {
    it.each(['pending', 'timeout'] as const)(
      'given support resolved a deadline case while attempt 1 was in flight, when its %s answer arrives, then nothing',
      (result) => {
        const history: TransactionEvent[] = [
          requested,
          reserved(0),
          started(1, 0),
          deadlineCase(900),
          {
            type: 'ResolvedBySupport',
            data: {
              status: 'FAILED',
              previousStatus: 'PENDING',
              reconciliation: 'deadline_exceeded',
              note: 'the provider has no record',
              providerStatus: 'not_found',
              at: at(950),
            },
          },
        ];
        const { events, state } = given(...history).when(submissionResult(1, result, 960));
        expect(events).toEqual([]);
        expect(state).toMatchObject({ status: 'FAILED', stage: 'final', nextCheck: null });
      },
    );

    it.each(['pending', 'timeout'] as const)(
      'given attempt 1 given up as interrupted, when its late %s answer arrives, then no second record and no second plan',
      (result) => {
        const history = [
          requested,
          reserved(0),
          started(1, 0),
          timedOut(1, 20, 'interrupted', 'lease lost'),
          scheduled(1, 1, 30),
        ];
        const { events, state } = given(...history).when(submissionResult(1, result, 25));
        expect(events).toEqual([]);
        expect(state.attempts).toMatchObject([{ outcome: 'ambiguous', settledAt: at(20) }]);
        expect(state.nextCheck).toEqual({ attempt: 1, checkNumber: 1, dueAt: at(30) });
      },
    );
  });

  describe('checks back off after the proof moment too', () => {
    it('given attempt 1 at its proof moment, when the planned check answers pending, then the next check waits its backoff', () => {
      // Check 2: ceiling 5 s * 2 = 10 s, jitter 0.5: 5 s later, not at once.
      const { events, state } = given(...attempt1Checking).when(check(1, 1, 'pending', 165));
      expect(events[1]).toEqual({
        type: 'StatusCheckScheduled',
        data: { attempt: 1, checkNumber: 2, dueAt: at(170), reason: 'after_pending' },
      });
      expect(state.nextCheck).toEqual({ attempt: 1, checkNumber: 2, dueAt: at(170) });
    });
  });

  describe('support owns a case once it is open', () => {
    it.each<StatusCheckResult>(['not_found', 'pending'])(
      'given a check planned after the deadline case opened, when it answers %s, then nothing more is planned or attempted',
      (result) => {
        // The 504 arrived after the deadline: the decider recorded it and planned a check.
        const history = [
          requested,
          reserved(0),
          started(1, 0),
          deadlineCase(900),
          timedOut(1, 901),
          scheduled(1, 1, 1_036),
        ];
        const { events, state } = given(...history).when(check(1, 1, result, 1_040));
        expect(events.map((e) => e.type)).toEqual(['StatusChecked']);
        expect(state).toMatchObject({
          status: 'PENDING',
          stage: 'needs_reconciliation',
          nextCheck: null,
        });
        expect(state.attempts).toMatchObject([{ number: 1, outcome: 'ambiguous' }]);
      },
    );
  });

  describe('every check is counted', () => {
    it('given attempt 1 being checked, when two planned checks answer pending, then both are counted and the third is planned', () => {
      const first = given(...attempt1Checking).when(check(1, 1, 'pending', 165));
      const second = given(...attempt1Checking, ...first.events).when(check(1, 2, 'pending', 170));
      expect(second.events.map((e) => e.type)).toEqual(['StatusChecked', 'StatusCheckScheduled']);
      expect(second.state).toMatchObject({
        statusChecks: 2,
        updatedAt: at(170),
        nextCheck: { attempt: 1, checkNumber: 3 },
      });
      expect(second.state.attempts).toEqual([
        {
          number: 1,
          startedAt: at(0),
          outcome: 'ambiguous',
          settledAt: at(30),
          sendBy: at(5),
          checks: 2,
        },
      ]);
    });

    it('given a check nobody planned, when it answers, then it is counted and the plan stays cleared', () => {
      const { events, state } = given(...attempt1Checking).when(check(1, 9, 'pending', 166));
      expect(events.map((e) => e.type)).toEqual(['StatusChecked']);
      expect(state).toMatchObject({ statusChecks: 1, nextCheck: null });
      expect(state.attempts).toMatchObject([{ checks: 1 }]);
    });
  });

  describe('the folded state tells the truth', () => {
    it('given attempt 1 accepted (202) at 10 s, then its late window counts from the 202', () => {
      const { events, state } = given(requested, reserved(0), started(1, 0)).when(
        submissionResult(1, 'pending', 10),
      );
      // First check: after the 30 s gateway timeout, plus half (jitter 0.5) of the 5 s base.
      expect(events).toEqual([
        accepted(1, 10),
        {
          type: 'StatusCheckScheduled',
          data: { attempt: 1, checkNumber: 1, dueAt: at(32.5), reason: 'provider_pending' },
        },
      ]);
      expect(state.attempts).toEqual([
        {
          number: 1,
          startedAt: at(0),
          outcome: 'accepted',
          settledAt: at(10),
          sendBy: at(5),
          checks: 0,
        },
      ]);
      const history = [requested, reserved(0), started(1, 0), ...events];
      // 10 + 120 + 15 = 145 s: a 404 at 144 s proves nothing yet.
      const early = given(...history).when(check(1, 1, 'not_found', 144));
      expect(early.events.map((e) => e.type)).toEqual(['StatusChecked', 'StatusCheckScheduled']);
      expect(early.state.attempts).toMatchObject([{ outcome: 'accepted' }]);
    });

    it('given the last attempt past its late window, when the check answers 404, then FAILED provider_lost and the attempt stays lost', () => {
      const { events, state } = given(...lastAttemptChecking).when(check(2, 1, 'not_found', 331));
      expect(events.map((e) => e.type)).toEqual([
        'StatusChecked',
        'ProviderAttemptLost',
        'StatusConfirmed',
      ]);
      expect(state).toMatchObject({
        status: 'FAILED',
        finalSource: 'process_manager',
        failureReason: 'provider_lost',
      });
      // No answer ever came: the provider has neither attempt.
      expect(state.attempts.map((a) => a.outcome)).toEqual(['lost', 'lost']);
    });

    it('a SUCCEEDED transaction has no failure reason', () => {
      const { events, state } = given(requested, reserved(0), started(1, 0)).when({
        type: 'RecordProviderReport',
        status: 'completed',
        source: 'webhook',
        at: at(12),
        reportId: null,
      });
      expect(events).toMatchObject([{ type: 'StatusConfirmed', data: { status: 'SUCCEEDED' } }]);
      expect(state).toMatchObject({
        status: 'SUCCEEDED',
        failureReason: null,
        finalizedAt: at(12),
      });
    });

    it.each([
      ['SUCCEEDED', null],
      ['FAILED', 'resolved_by_support'],
    ] as const)(
      'given a deadline case, when support resolves it %s, then it is final from the resolution',
      (status, failureReason) => {
        const resolve: TransactionCommand = {
          type: 'ResolveBySupport',
          status,
          note: 'asked the provider by phone',
          providerStatus: null,
          at: at(950),
        };
        const history = [requested, reserved(0), started(1, 0), deadlineCase(900)];
        const { events, state } = given(...history).when(resolve);
        expect(events).toMatchObject([{ type: 'ResolvedBySupport', data: { status } }]);
        expect(state).toMatchObject({
          status,
          stage: 'final',
          finalSource: 'support',
          failureReason,
          finalizedAt: at(950),
        });
      },
    );
  });

  describe('signed webhooks', () => {
    const awaitingProvider = [requested, reserved(0), started(1, 0), accepted(1, 3)];
    const signedReport = (second: number): TransactionCommand => ({
      type: 'RecordProviderReport',
      status: 'completed',
      source: 'webhook',
      at: at(second),
      reportId: 'msg_1',
    });

    it('given a pending transaction, when a signed webhook reports completed, then SUCCEEDED with its report id kept', () => {
      const { events, state } = given(...awaitingProvider).when(signedReport(12));
      expect(events).toEqual([
        {
          type: 'StatusConfirmed',
          data: {
            status: 'SUCCEEDED',
            source: 'webhook',
            providerStatus: 'completed',
            reason: null,
            at: at(12),
            reportId: 'msg_1',
          },
        },
      ]);
      expect(state).toMatchObject({ status: 'SUCCEEDED', stage: 'final', reportIds: ['msg_1'] });
      expect(state.attempts).toMatchObject([{ number: 1, outcome: 'answered' }]);
      expect(given(...awaitingProvider, ...events).when(signedReport(13)).events).toEqual([]);
    });

    it('given a SUCCEEDED transaction, when a signed webhook says declined, then the conflict is counted and the status stands', () => {
      const confirmedByWebhook = given(...awaitingProvider).when(signedReport(12)).events;
      const { events, state } = given(...awaitingProvider, ...confirmedByWebhook).when({
        type: 'RecordProviderReport',
        status: 'declined',
        source: 'webhook',
        at: at(20),
        reportId: 'msg_2',
      });
      expect(events.map((e) => e.type)).toEqual([
        'ConflictingStatusReported',
        'ReconciliationRequired',
      ]);
      expect(state).toMatchObject({
        status: 'SUCCEEDED',
        stage: 'needs_reconciliation',
        conflicts: 1,
        reportIds: ['msg_1', 'msg_2'],
      });
    });
  });
});
