/**
 * The transaction's functional core: `decide` turns a command and the current state into new
 * events, `evolve` folds one event into the state. Both are pure: no I/O, no clock, no
 * randomness (times and jitter arrive inside commands), so they can be tested given/when/then
 * and replayed by auditors.
 */

export type TransactionStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** Where the transaction is in its life, finer than the status; shown to support. */
export type TransactionStage =
  | 'requested'
  | 'submitted'
  | 'awaiting_provider'
  | 'timed_out'
  | 'checking'
  | 'needs_reconciliation'
  | 'final';

export type ProviderStatus = 'completed' | 'declined';

/** Who told us the final status. `process_manager` means we concluded it ourselves. */
export type StatusSource =
  'submission' | 'webhook' | 'status_check' | 'process_manager' | 'support';

/** Why an attempt's outcome is unknown. `interrupted`: we crashed while it was in flight. */
export type AmbiguityReason =
  'gateway_timeout' | 'timeout' | 'connection' | 'unexpected_response' | 'interrupted';

export type StatusCheckResult =
  'pending' | 'completed' | 'declined' | 'not_found' | 'rate_limited' | 'error';

export type ReconciliationReason = 'conflicting_reports' | 'deadline_exceeded';

export interface TransactionRequest {
  /** Integer minor units of `currency`. */
  amount: number;
  /** ISO 4217 code. */
  currency: string;
  recipient: string;
  note: string | null;
}

/** How we treat the provider; from configuration, passed in with each command. */
export interface ProviderPolicy {
  maxAttempts: number;
  /** The provider's own gateway timeout: a late record can only appear after it. */
  gatewayTimeoutMs: number;
  /** A record can appear this long after the POST that created it. */
  lateWindowMs: number;
  /** Safety margin after the late window before a 404 proves the attempt lost. */
  lateWindowMarginMs: number;
  checkBaseDelayMs: number;
  checkMaxDelayMs: number;
}

// ---------------------------------------------------------------------------------------------
// Events

export interface TransactionRequested {
  type: 'TransactionRequested';
  data: TransactionRequest & {
    transactionId: string;
    owner: string;
    clientId: string;
    requestedAt: string;
  };
}

/** The intent record: appended before the provider is called, so a crash can't hide a POST. */
export interface ProviderSubmissionStarted {
  type: 'ProviderSubmissionStarted';
  data: { attempt: number; startedAt: string };
}

/** The provider has it and is still working (status pending). */
export interface ProviderAccepted {
  type: 'ProviderAccepted';
  data: { attempt: number; at: string };
}

export interface ProviderTimedOut {
  type: 'ProviderTimedOut';
  data: { attempt: number; reason: AmbiguityReason; detail: string; at: string };
}

export interface StatusCheckScheduled {
  type: 'StatusCheckScheduled';
  data: { attempt: number; checkNumber: number; dueAt: string; reason: string };
}

export interface StatusChecked {
  type: 'StatusChecked';
  data: { attempt: number; checkNumber: number; result: StatusCheckResult; at: string };
}

/** A 404 after the late window: the provider provably never got this attempt. */
export interface ProviderAttemptLost {
  type: 'ProviderAttemptLost';
  data: { attempt: number; at: string };
}

export interface StatusConfirmed {
  type: 'StatusConfirmed';
  data: {
    status: 'SUCCEEDED' | 'FAILED';
    source: StatusSource;
    providerStatus: ProviderStatus | null;
    reason: string | null;
    at: string;
    /** The `webhook-id` of the signed report that said so, if any. */
    reportId?: string;
  };
}

export interface ConflictingStatusReported {
  type: 'ConflictingStatusReported';
  data: {
    reported: ProviderStatus;
    source: StatusSource;
    confirmed: TransactionStatus;
    at: string;
    reportId?: string;
  };
}

export interface ReconciliationRequired {
  type: 'ReconciliationRequired';
  data: { reason: ReconciliationReason; at: string };
}

/** A person settled a case: the status they decided, why, and what it replaced. */
export interface ResolvedBySupport {
  type: 'ResolvedBySupport';
  data: {
    status: 'SUCCEEDED' | 'FAILED';
    previousStatus: TransactionStatus;
    reconciliation: ReconciliationReason;
    note: string;
    /** What the provider said when support asked just before deciding, if they asked. */
    providerStatus: ProviderStatus | 'pending' | 'not_found' | null;
    at: string;
  };
}

export type TransactionEvent =
  | TransactionRequested
  | ProviderSubmissionStarted
  | ProviderAccepted
  | ProviderTimedOut
  | StatusCheckScheduled
  | StatusChecked
  | ProviderAttemptLost
  | StatusConfirmed
  | ConflictingStatusReported
  | ReconciliationRequired
  | ResolvedBySupport;

export type TransactionEventType = TransactionEvent['type'];

export const TRANSACTION_EVENT_TYPES: readonly TransactionEventType[] = [
  'TransactionRequested',
  'ProviderSubmissionStarted',
  'ProviderAccepted',
  'ProviderTimedOut',
  'StatusCheckScheduled',
  'StatusChecked',
  'ProviderAttemptLost',
  'StatusConfirmed',
  'ConflictingStatusReported',
  'ReconciliationRequired',
  'ResolvedBySupport',
];

// ---------------------------------------------------------------------------------------------
// State

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
}

export type TransactionState = { exists: false } | ExistingTransaction;

export const initialState: TransactionState = { exists: false };

// ---------------------------------------------------------------------------------------------
// Commands

export interface RequestTransaction {
  type: 'RequestTransaction';
  transactionId: string;
  owner: string;
  clientId: string;
  request: TransactionRequest;
  requestedAt: string;
}

export interface StartSubmission {
  type: 'StartSubmission';
  attempt: number;
  at: string;
  policy: ProviderPolicy;
}

export type SubmissionResult =
  | { kind: 'final'; status: ProviderStatus }
  | { kind: 'pending' }
  | { kind: 'ambiguous'; reason: AmbiguityReason; detail: string };

export interface RecordSubmissionResult {
  type: 'RecordSubmissionResult';
  attempt: number;
  result: SubmissionResult;
  at: string;
  /** Uniform in [0, 1): the full-jitter draw for the first status check. */
  jitter: number;
  policy: ProviderPolicy;
}

export interface RecordStatusCheck {
  type: 'RecordStatusCheck';
  attempt: number;
  checkNumber: number;
  result: StatusCheckResult;
  /** The provider's Retry-After on a 429. */
  retryAfterMs: number | null;
  at: string;
  jitter: number;
  policy: ProviderPolicy;
}

export interface RecordProviderReport {
  type: 'RecordProviderReport';
  status: ProviderStatus | 'pending';
  source: 'webhook';
  at: string;
  /** The signed report's `webhook-id`; null for an unsigned one. */
  reportId: string | null;
}

export interface ExpireDeadline {
  type: 'ExpireDeadline';
  at: string;
}

export interface ResolveBySupport {
  type: 'ResolveBySupport';
  status: 'SUCCEEDED' | 'FAILED';
  note: string;
  providerStatus: ProviderStatus | 'pending' | 'not_found' | null;
  at: string;
}

export type TransactionCommand =
  | RequestTransaction
  | StartSubmission
  | RecordSubmissionResult
  | RecordStatusCheck
  | RecordProviderReport
  | ExpireDeadline
  | ResolveBySupport;

/** The client reused an idempotency key for a request with a different body. */
export class IdempotencyKeyReusedError extends Error {
  constructor(readonly clientId: string) {
    super(`Transaction id ${clientId} was already used for a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** Support may only settle a case that needs reconciliation; a confirmed status stands. */
export class ResolutionNotAllowedError extends Error {
  constructor() {
    super('Only a transaction that needs reconciliation can be resolved by support');
    this.name = 'ResolutionNotAllowedError';
  }
}

/** A command for a transaction that does not exist. */
export class TransactionNotFoundError extends Error {
  constructor() {
    super('No such transaction');
    this.name = 'TransactionNotFoundError';
  }
}

// ---------------------------------------------------------------------------------------------
// decide

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

export function isFinal(state: ExistingTransaction): boolean {
  return state.status !== 'PENDING';
}

function currentAttempt(state: ExistingTransaction): Attempt | undefined {
  return state.attempts.at(-1);
}

/**
 * When a 404 for this attempt proves the provider never got it: the late window and its margin
 * after the latest moment the POST can have arrived (see Attempt.settledAt).
 */
export function lostProofAt(attempt: Attempt, policy: ProviderPolicy): number {
  const latestArrival = ms(attempt.settledAt ?? attempt.startedAt);
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
 * the configured maximum: this is the "one request, one charge" rule.
 */
function decideStartSubmission(
  { attempt, at, policy }: StartSubmission,
  state: ExistingTransaction,
): TransactionEvent[] {
  if (isFinal(state) || attempt > policy.maxAttempts) return [];
  if (attempt !== state.attempts.length + 1) return [];
  const previous = currentAttempt(state);
  if (previous && previous.outcome !== 'lost') return [];
  return [{ type: 'ProviderSubmissionStarted', data: { attempt, startedAt: at } }];
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

// ---------------------------------------------------------------------------------------------
// evolve

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
