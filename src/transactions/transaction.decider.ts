/**
 * The transaction's decisions: `decide` turns a command and the current state into new events.
 * Pure: no I/O, no clock, no randomness (times and jitter arrive inside commands), so it can be
 * tested given/when/then and replayed by auditors. Events, commands, state and `evolve` live in
 * the files beside it.
 */

import type {
  ExpireHold,
  ProviderPolicy,
  RecordFundsRefused,
  RecordFundsSettled,
  RecordProviderReport,
  RecordStatusCheck,
  RecordSubmissionResult,
  RequestTransaction,
  ResolveBySupport,
  StartSubmission,
  TransactionCommand,
} from './transaction.commands';
import {
  IdempotencyKeyReusedError,
  ResolutionNotAllowedError,
  TransactionNotFoundError,
} from './transaction.errors';
import type {
  ConflictingStatusReported,
  ProviderAttemptLost,
  ProviderStatus,
  StatusCheckScheduled,
  StatusChecked,
  StatusConfirmed,
  StatusSource,
  TransactionEvent,
  TransactionRequest,
} from './transaction.events';
import { currentAttempt, isFinal } from './transaction.state';
import type { Attempt, ExistingTransaction, TransactionState } from './transaction.state';

const STATUS_OF: Record<ProviderStatus, 'SUCCEEDED' | 'FAILED'> = {
  completed: 'SUCCEEDED',
  declined: 'FAILED',
};

const ms = (iso: string) => Date.parse(iso);
const iso = (epochMs: number) => new Date(epochMs).toISOString();

function sameRequest(a: TransactionRequest, b: TransactionRequest): boolean {
  return (
    a.amount === b.amount &&
    a.currency === b.currency &&
    a.recipient === b.recipient &&
    a.note === b.note
  );
}

/**
 * When a 404 for this attempt proves the provider never got it: the late window and its margin
 * after the latest moment the POST can have arrived. That is when its outcome became known or
 * unknown (Attempt.settledAt), but never before its send deadline: an attempt found unanswered
 * because its worker stalled (its lease expired, yet it lives) may still be sent until then.
 */
export function lostProofAt(attempt: Attempt, policy: ProviderPolicy): number {
  const latestArrival = Math.max(
    ms(attempt.settledAt ?? attempt.startedAt),
    attempt.sendBy === null ? -Infinity : ms(attempt.sendBy),
  );
  return latestArrival + policy.lateWindowMs + policy.lateWindowMarginMs;
}

/**
 * The next status check: exponential backoff with full jitter, shaped by what the provider can
 * do. Nothing can appear before its gateway timeout has passed since the POST, and the check
 * that can prove the attempt lost is never skipped past.
 */
export function nextCheckDueAt(
  attempt: Attempt,
  checkNumber: number,
  at: number,
  jitter: number,
  policy: ProviderPolicy,
  notBefore = 0,
): number {
  const ceiling = Math.min(
    policy.checkMaxDelayMs,
    policy.checkBaseDelayMs * 2 ** (checkNumber - 1),
  );
  const earliest = Math.max(at, ms(attempt.startedAt) + policy.gatewayTimeoutMs, notBefore);
  const due = earliest + Math.floor(jitter * ceiling);
  const proof = lostProofAt(attempt, policy);
  return at < proof ? Math.min(due, Math.max(proof, earliest)) : due;
}

function scheduleCheck(
  attempt: Attempt,
  checkNumber: number,
  at: number,
  jitter: number,
  policy: ProviderPolicy,
  reason: string,
  notBefore = 0,
): StatusCheckScheduled {
  return {
    type: 'StatusCheckScheduled',
    data: {
      attempt: attempt.number,
      checkNumber,
      dueAt: iso(nextCheckDueAt(attempt, checkNumber, at, jitter, policy, notBefore)),
      reason,
    },
  };
}

function confirm(
  status: 'SUCCEEDED' | 'FAILED',
  source: StatusSource,
  providerStatus: ProviderStatus | null,
  reason: string | null,
  at: string,
): StatusConfirmed {
  return { type: 'StatusConfirmed', data: { status, source, providerStatus, reason, at } };
}

/**
 * Whether a report tells us something not yet recorded: a signed report is new when its
 * `webhook-id` is (a redelivery keeps its id); an unsigned one, which has no identity but its
 * content, when the provider has not said that status before.
 */
function isNewReport(
  state: ExistingTransaction,
  reported: ProviderStatus,
  reportId: string | null,
): boolean {
  return reportId !== null
    ? !state.reportIds.includes(reportId)
    : !state.reportedStatuses.includes(reported);
}

/**
 * A provider report about a transaction that is already final: a report that agrees or was
 * already recorded changes nothing (so a replay cannot reopen a settled case); a new
 * contradiction never overwrites the status silently; it becomes a case for support.
 */
function reportOnFinal(
  state: ExistingTransaction,
  reported: ProviderStatus,
  source: StatusSource,
  at: string,
  reportId: string | null = null,
): TransactionEvent[] {
  if (STATUS_OF[reported] === state.status) return [];
  if (!isNewReport(state, reported, reportId)) return [];
  const conflict: ConflictingStatusReported = {
    type: 'ConflictingStatusReported',
    data: { reported, source, confirmed: state.status, at, ...(reportId ? { reportId } : {}) },
  };
  return state.reconciliation === 'conflicting_reports'
    ? [conflict]
    : [conflict, { type: 'ReconciliationRequired', data: { reason: 'conflicting_reports', at } }];
}

export function decide(command: TransactionCommand, state: TransactionState): TransactionEvent[] {
  if (command.type === 'RequestTransaction') return decideRequest(command, state);
  if (!state.exists) throw new TransactionNotFoundError();
  switch (command.type) {
    case 'StartSubmission':
      return decideStartSubmission(command, state);
    case 'RecordSubmissionResult':
      return decideSubmissionResult(command, state);
    case 'RecordStatusCheck':
      return decideStatusCheck(command, state);
    case 'RecordProviderReport':
      return decideProviderReport(command, state);
    case 'ResolveBySupport':
      return decideResolution(command, state);
    case 'RecordFundsRefused':
      return decideFundsRefused(command, state);
    case 'RecordFundsSettled':
      return decideFundsSettled(command, state);
    case 'ExpireHold':
      return decideHoldExpiry(command, state);
    case 'ExpireDeadline':
      return isFinal(state) || state.reconciliation !== null
        ? []
        : [
            {
              type: 'ReconciliationRequired',
              data: { reason: 'deadline_exceeded', at: command.at },
            },
          ];
  }
}

function decideRequest(command: RequestTransaction, state: TransactionState): TransactionEvent[] {
  if (state.exists) {
    if (!sameRequest(state.request, command.request)) {
      throw new IdempotencyKeyReusedError(command.clientId);
    }
    return [];
  }
  return [
    {
      type: 'TransactionRequested',
      data: {
        transactionId: command.transactionId,
        owner: command.owner,
        clientId: command.clientId,
        ...command.request,
        requestedAt: command.requestedAt,
      },
    },
  ];
}

/**
 * Attempt 1 starts once. Attempt n > 1 only after attempt n - 1 was proven lost, and never past
 * the configured maximum: this is the "one request, one charge" rule. And none starts before the
 * customer's account holds the amount: the first start records the hold in the same append.
 */
function decideStartSubmission(
  { attempt, at, policy, heldAmount }: StartSubmission,
  state: ExistingTransaction,
): TransactionEvent[] {
  if (isFinal(state) || attempt > policy.maxAttempts) return [];
  if (attempt !== state.attempts.length + 1) return [];
  const previous = currentAttempt(state);
  if (previous && previous.outcome !== 'lost') return [];
  const started: TransactionEvent = {
    type: 'ProviderSubmissionStarted',
    data: { attempt, startedAt: at, sendBy: iso(ms(at) + policy.sendWindowMs) },
  };
  if (state.funds === 'held') return [started];
  // Only a held amount is ever recorded: any other funds state is final, refused above.
  if (heldAmount !== state.request.amount) return [];
  return [{ type: 'FundsReserved', data: { amount: heldAmount, at } }, started];
}

/** Insufficient funds ends a transaction the provider never heard of; later answers change nothing. */
function decideFundsRefused(
  { available, at }: RecordFundsRefused,
  state: ExistingTransaction,
): TransactionEvent[] {
  if (state.funds !== null || isFinal(state)) return [];
  return [
    { type: 'FundsRefused', data: { amount: state.request.amount, available, at } },
    confirm('FAILED', 'ledger', null, 'insufficient_funds', at),
  ];
}

/**
 * The hold followed the final status: captured for SUCCEEDED, released for FAILED. A support
 * resolution that changed the status moves it again; the same news twice records nothing.
 */
function decideFundsSettled(
  { funds, at }: RecordFundsSettled,
  state: ExistingTransaction,
): TransactionEvent[] {
  const expected = state.status === 'SUCCEEDED' ? 'captured' : 'released';
  if (!isFinal(state) || funds !== expected || state.funds === funds) return [];
  // The account's answer is the evidence of a hold, even one never recorded here (a crash before
  // the first submission); a refused one held nothing.
  if (state.funds === 'refused') return [];
  const amount = state.request.amount;
  return funds === 'captured'
    ? [{ type: 'FundsCaptured', data: { amount, at } }]
    : [{ type: 'FundsReleased', data: { amount, at } }];
}

/**
 * A hold past its expiry is released only when nothing can have reached the provider: the
 * transaction never started a submission. Then it fails (the account's money is not kept for a
 * payment that will never be sent); otherwise the money may be with the provider and stays held.
 */
function decideHoldExpiry({ at }: ExpireHold, state: ExistingTransaction): TransactionEvent[] {
  if (isFinal(state) || state.attempts.length > 0) return [];
  return [confirm('FAILED', 'ledger', null, 'hold_expired', at)];
}

function decideSubmissionResult(
  { attempt, result, at, jitter, policy }: RecordSubmissionResult,
  state: ExistingTransaction,
): TransactionEvent[] {
  const current = currentAttempt(state);
  if (!current || current.number !== attempt) return [];
  // The provider's own final answer is the truth, even if this attempt was already given up as
  // ambiguous (a worker that lost its lease while waiting for the response).
  if (result.kind === 'final') {
    return isFinal(state)
      ? reportOnFinal(state, result.status, 'submission', at)
      : [confirm(STATUS_OF[result.status], 'submission', result.status, null, at)];
  }
  if (isFinal(state) || current.outcome !== 'in_flight') return [];
  const now = ms(at);
  if (result.kind === 'pending') {
    return [
      { type: 'ProviderAccepted', data: { attempt, at } },
      scheduleCheck(current, 1, now, jitter, policy, 'provider_pending'),
    ];
  }
  return [
    {
      type: 'ProviderTimedOut',
      data: { attempt, reason: result.reason, detail: result.detail, at },
    },
    scheduleCheck(current, 1, now, jitter, policy, `submission_${result.reason}`),
  ];
}

function decideStatusCheck(
  command: RecordStatusCheck,
  state: ExistingTransaction,
): TransactionEvent[] {
  const { attempt, checkNumber, result, at, jitter, policy, retryAfterMs } = command;
  const checked: StatusChecked = {
    type: 'StatusChecked',
    data: { attempt, checkNumber, result, at },
  };
  // A final answer is the truth whichever check asked; anything else only moves the plan on
  // when it answers the check that was planned.
  if (result === 'completed' || result === 'declined') {
    return isFinal(state)
      ? [checked, ...reportOnFinal(state, result, 'status_check', at)]
      : [checked, confirm(STATUS_OF[result], 'status_check', result, null, at)];
  }
  const planned = state.nextCheck;
  const isPlanned = planned?.attempt === attempt && planned.checkNumber === checkNumber;
  if (!isPlanned || isFinal(state) || state.reconciliation !== null) return [checked];

  const current = currentAttempt(state);
  if (!current || current.number !== attempt) return [checked];
  const now = ms(at);
  if (result === 'not_found' && now >= lostProofAt(current, policy)) {
    const lost: ProviderAttemptLost = { type: 'ProviderAttemptLost', data: { attempt, at } };
    return attempt >= policy.maxAttempts
      ? [checked, lost, confirm('FAILED', 'process_manager', null, 'provider_lost', at)]
      : [checked, lost];
  }
  const notBefore = result === 'rate_limited' && retryAfterMs !== null ? now + retryAfterMs : 0;
  return [
    checked,
    scheduleCheck(current, checkNumber + 1, now, jitter, policy, `after_${result}`, notBefore),
  ];
}

function decideProviderReport(
  { status, source, at, reportId }: RecordProviderReport,
  state: ExistingTransaction,
): TransactionEvent[] {
  if (status === 'pending') return [];
  // Reports are recorded only once a transaction is final, so only a final one can have heard
  // this report before: reportOnFinal answers a repeat.
  if (isFinal(state)) return reportOnFinal(state, status, source, at, reportId);
  const confirmed = confirm(STATUS_OF[status], source, status, null, at);
  return reportId ? [{ ...confirmed, data: { ...confirmed.data, reportId } }] : [confirmed];
}

/**
 * Support settles a reconciliation case. It is the only way a status changes after it was
 * confirmed, and it says so: the event keeps the status it replaced, the note and (in metadata)
 * who decided.
 */
function decideResolution(
  { status, note, providerStatus, at }: ResolveBySupport,
  state: ExistingTransaction,
): TransactionEvent[] {
  if (state.reconciliation === null) throw new ResolutionNotAllowedError();
  // The provider cannot have paid what it was never sent, and no money was taken for it.
  if (status === 'SUCCEEDED' && state.attempts.length === 0) {
    throw new ResolutionNotAllowedError(
      'This transaction was never sent to the provider, so it cannot have succeeded: resolve it FAILED',
    );
  }
  return [
    {
      type: 'ResolvedBySupport',
      data: {
        status,
        previousStatus: state.status,
        reconciliation: state.reconciliation,
        note,
        providerStatus,
        at,
      },
    },
  ];
}
