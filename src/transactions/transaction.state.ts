/**
 * What a transaction is, as its events tell it: `evolve` folds one event into the state. Pure:
 * no I/O, no clock, so auditors can replay a stream to the same state.
 */

import type {
  FundsStatus,
  ProviderStatus,
  ReconciliationReason,
  StatusSource,
  TransactionEvent,
  TransactionRequest,
  TransactionStage,
  TransactionStatus,
} from './transaction.events';

export type AttemptOutcome = 'in_flight' | 'accepted' | 'ambiguous' | 'lost' | 'answered';

export interface Attempt {
  number: number;
  startedAt: string;
  outcome: AttemptOutcome;
  /**
   * When we learned the attempt's outcome was pending or unknown. The POST reached the provider
   * (if ever) no later than this, so the late window counted from here is safe even when the
   * POST spent long on its way.
   */
  settledAt: string | null;
  /** The POST left by then or never: the worker that recorded the intent does not send later. */
  sendBy: string | null;
  checks: number;
}

export interface ExistingTransaction {
  exists: true;
  transactionId: string;
  owner: string;
  clientId: string;
  request: TransactionRequest;
  status: TransactionStatus;
  stage: TransactionStage;
  requestedAt: string;
  updatedAt: string;
  attempts: Attempt[];
  /** The check the process manager is waiting to run, if any. */
  nextCheck: { attempt: number; checkNumber: number; dueAt: string } | null;
  statusChecks: number;
  finalSource: StatusSource | null;
  providerStatus: ProviderStatus | null;
  failureReason: string | null;
  finalizedAt: string | null;
  reconciliation: ReconciliationReason | null;
  conflicts: number;
  /** `webhook-id`s of signed reports already recorded: a redelivery changes nothing. */
  reportIds: string[];
  /**
   * Every provider status recorded for this transaction (a confirmation or a contradiction): an
   * unsigned report saying one of them again carries nothing new.
   */
  reportedStatuses: ProviderStatus[];
  /** Where the money stands; null until the hold's outcome is recorded on this stream. */
  funds: FundsStatus | null;
}

export type TransactionState = { exists: false } | ExistingTransaction;

export const initialState: TransactionState = { exists: false };

export function isFinal(state: ExistingTransaction): boolean {
  return state.status !== 'PENDING';
}

export function currentAttempt(state: ExistingTransaction): Attempt | undefined {
  return state.attempts.at(-1);
}

function withReportId(state: ExistingTransaction, reportId: string | undefined): string[] {
  return reportId ? [...state.reportIds, reportId] : state.reportIds;
}

function withReportedStatus(
  state: ExistingTransaction,
  reported: ProviderStatus | null,
): ProviderStatus[] {
  return reported === null || state.reportedStatuses.includes(reported)
    ? state.reportedStatuses
    : [...state.reportedStatuses, reported];
}

function stageAfterProgress(state: ExistingTransaction, stage: TransactionStage): TransactionStage {
  if (state.reconciliation) return 'needs_reconciliation';
  return isFinal(state) ? 'final' : stage;
}

function withAttempt(
  state: ExistingTransaction,
  number: number,
  change: Partial<Attempt>,
): Attempt[] {
  return state.attempts.map((a) => (a.number === number ? { ...a, ...change } : a));
}

export function evolve(state: TransactionState, event: TransactionEvent): TransactionState {
  if (event.type === 'TransactionRequested') {
    const { transactionId, owner, clientId, amount, currency, recipient, note, requestedAt } =
      event.data;
    return {
      exists: true,
      transactionId,
      owner,
      clientId,
      request: { amount, currency, recipient, note },
      status: 'PENDING',
      stage: 'requested',
      requestedAt,
      updatedAt: requestedAt,
      attempts: [],
      nextCheck: null,
      statusChecks: 0,
      finalSource: null,
      providerStatus: null,
      failureReason: null,
      finalizedAt: null,
      reconciliation: null,
      conflicts: 0,
      reportIds: [],
      reportedStatuses: [],
      funds: null,
    };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'ProviderSubmissionStarted':
      return {
        ...state,
        attempts: [
          ...state.attempts,
          {
            number: event.data.attempt,
            startedAt: event.data.startedAt,
            outcome: 'in_flight',
            settledAt: null,
            sendBy: event.data.sendBy ?? null,
            checks: 0,
          },
        ],
        nextCheck: null,
        stage: stageAfterProgress(state, 'submitted'),
        updatedAt: event.data.startedAt,
      };
    case 'ProviderAccepted':
      return {
        ...state,
        attempts: withAttempt(state, event.data.attempt, {
          outcome: 'accepted',
          settledAt: event.data.at,
        }),
        stage: stageAfterProgress(state, 'awaiting_provider'),
        updatedAt: event.data.at,
      };
    case 'ProviderTimedOut':
      return {
        ...state,
        attempts: withAttempt(state, event.data.attempt, {
          outcome: 'ambiguous',
          settledAt: event.data.at,
        }),
        stage: stageAfterProgress(state, 'timed_out'),
        updatedAt: event.data.at,
      };
    case 'StatusCheckScheduled':
      return {
        ...state,
        nextCheck: {
          attempt: event.data.attempt,
          checkNumber: event.data.checkNumber,
          dueAt: event.data.dueAt,
        },
        stage: stageAfterProgress(state, 'checking'),
      };
    case 'StatusChecked': {
      const attempt = state.attempts.find((a) => a.number === event.data.attempt);
      return {
        ...state,
        attempts: withAttempt(state, event.data.attempt, { checks: (attempt?.checks ?? 0) + 1 }),
        nextCheck: null,
        statusChecks: state.statusChecks + 1,
        updatedAt: event.data.at,
      };
    }
    case 'ProviderAttemptLost':
      return {
        ...state,
        attempts: withAttempt(state, event.data.attempt, { outcome: 'lost' }),
        stage: stageAfterProgress(state, 'requested'),
        updatedAt: event.data.at,
      };
    case 'StatusConfirmed': {
      const current = currentAttempt(state);
      // A late final status settles a case opened only because it was late.
      const reconciliation =
        state.reconciliation === 'deadline_exceeded' ? null : state.reconciliation;
      return {
        ...state,
        status: event.data.status,
        stage: reconciliation ? 'needs_reconciliation' : 'final',
        reconciliation,
        attempts:
          current && event.data.source !== 'process_manager'
            ? withAttempt(state, current.number, { outcome: 'answered' })
            : state.attempts,
        nextCheck: null,
        finalSource: event.data.source,
        providerStatus: event.data.providerStatus,
        failureReason: event.data.status === 'FAILED' ? (event.data.reason ?? 'declined') : null,
        finalizedAt: event.data.at,
        updatedAt: event.data.at,
        reportIds: withReportId(state, event.data.reportId),
        reportedStatuses: withReportedStatus(state, event.data.providerStatus),
      };
    }
    case 'ConflictingStatusReported':
      return {
        ...state,
        conflicts: state.conflicts + 1,
        updatedAt: event.data.at,
        reportIds: withReportId(state, event.data.reportId),
        reportedStatuses: withReportedStatus(state, event.data.reported),
      };
    case 'ResolvedBySupport':
      return {
        ...state,
        status: event.data.status,
        stage: 'final',
        reconciliation: null,
        nextCheck: null,
        finalSource: 'support',
        failureReason: event.data.status === 'FAILED' ? 'resolved_by_support' : null,
        finalizedAt: state.finalizedAt ?? event.data.at,
        updatedAt: event.data.at,
      };
    case 'FundsReserved':
      return { ...state, funds: 'held', updatedAt: event.data.at };
    case 'FundsRefused':
      return { ...state, funds: 'refused', updatedAt: event.data.at };
    case 'FundsCaptured':
      return { ...state, funds: 'captured', updatedAt: event.data.at };
    case 'FundsReleased':
      return { ...state, funds: 'released', updatedAt: event.data.at };
    case 'ReconciliationRequired':
      return {
        ...state,
        reconciliation: event.data.reason,
        nextCheck: null,
        stage: 'needs_reconciliation',
        updatedAt: event.data.at,
      };
  }
}

export function fold(events: readonly TransactionEvent[]): TransactionState {
  return events.reduce(evolve, initialState);
}
