/**
 * The promises of docs/design.md as checks over one simulated run: some as it goes (a second
 * POST, the status-check budget, a deadline), the rest at its end over the whole event log, the
 * read models and the provider's ground truth. Pure: the run gathers the facts.
 */
import type { AccountBalanceComparison } from '../accounts/compare-account-balances';
import { ACCOUNT_CATEGORY } from '../accounts/account-id';
import {
  AccountAudit,
  auditAccountEvent,
  checkFunds,
  startAccountAudit,
} from '../audit/money-audit';
import {
  Difference,
  StreamAudit,
  auditEvent,
  compareWithSummary,
  startStreamAudit,
} from '../audit/stream-audit';
import type { RecordedEvent } from '../event-store/event-store.port';
import type { TransactionSummary } from '../transactions/read-model.port';
import { TRANSACTION_CATEGORY, transactionIdOf } from '../transactions/transaction-id';
import { toTransactionEvent } from '../transactions/transaction-streams';
import { TransactionState, evolve, initialState } from '../transactions/transaction.state';
import type { TransactionStatus } from '../transactions/transaction.events';

export const INVARIANTS = [
  'one-submission',
  'final-by-deadline',
  'truthful-status',
  'no-silent-change',
  'status-check-budget',
  'projection-equals-fold',
  'hash-chain',
  'money',
  'forged-webhook-refused',
  'exclusive-leases',
] as const;

export type InvariantName = (typeof INVARIANTS)[number];

export interface Violation {
  invariant: InvariantName;
  detail: string;
}

/** What the provider did with one POST, by its ground truth. */
export type SubmissionFate = 'completed' | 'declined' | 'lost' | 'pending';

export interface SubmissionTruth {
  /** Virtual epoch ms at which the POST reached the provider. */
  receivedAt: number;
  fate: SubmissionFate;
}

export class Violations {
  readonly list: Violation[] = [];

  add(invariant: InvariantName, detail: string): void {
    this.list.push({ invariant, detail });
  }

  count(invariant: InvariantName): number {
    return this.list.filter((violation) => violation.invariant === invariant).length;
  }
}

/**
 * Promise 1: a POST for an id the provider already received is allowed only once the earlier
 * attempt is proven lost: lost in truth, and the late window passed since it was sent, so the
 * ledger could have seen the proof (a 404 after the window).
 */
export function checkResubmission(
  providerId: string,
  earlier: readonly SubmissionTruth[],
  now: number,
  lateWindowMs: number,
): Violation | null {
  const last = earlier.at(-1);
  if (!last) return null;
  if (last.fate !== 'lost') {
    return {
      invariant: 'one-submission',
      detail: `${providerId} POSTed again while its attempt of ${new Date(last.receivedAt).toISOString()} was ${last.fate}`,
    };
  }
  if (now - last.receivedAt < lateWindowMs) {
    return {
      invariant: 'one-submission',
      detail: `${providerId} POSTed again ${now - last.receivedAt} ms after a lost attempt, before the late window (${lateWindowMs} ms) could prove it lost`,
    };
  }
  return null;
}

/** Promise 4: by its deadline (plus slack for a dead instance's leases), final or a case. */
export function checkDeadline(
  state: TransactionState,
  now: number,
  deadlineMs: number,
): Violation | null {
  if (!state.exists || state.status !== 'PENDING' || state.reconciliation !== null) return null;
  if (now < Date.parse(state.requestedAt) + deadlineMs) return null;
  return {
    invariant: 'final-by-deadline',
    detail: `${state.transactionId} still PENDING (${state.stage}) ${now - Date.parse(state.requestedAt)} ms after its request, not in the reconciliation queue`,
  };
}

function truthStatus(submissions: readonly SubmissionTruth[]): TransactionStatus | null {
  const last = submissions.at(-1);
  if (!last || last.fate === 'lost' || last.fate === 'declined') return 'FAILED';
  return last.fate === 'completed' ? 'SUCCEEDED' : null;
}

export interface EndOfRun {
  /** The whole of `$all`, in position order. */
  events: readonly RecordedEvent[];
  /** The transaction summaries of every stream, from the read model, caught up to the head. */
  summaries: ReadonlyMap<string, TransactionSummary>;
  accountBalances: AccountBalanceComparison;
  submissionsOf(providerId: string): readonly SubmissionTruth[];
  now: Date;
  /** The deadline plus the slack allowed for leases of crashed nodes. */
  deadlineMs: number;
}

const TRANSACTION_PREFIX = `${TRANSACTION_CATEGORY}-`;
const ACCOUNT_PREFIX = `${ACCOUNT_CATEGORY}-`;

/** Each audit difference under the invariant it breaks. */
function classify(difference: Difference): InvariantName {
  const field = difference.field.split('@')[0];
  return field === 'hash' || field === 'previousHash' || field === 'revision'
    ? 'hash-chain'
    : 'money';
}

function describe(difference: Difference): string {
  const text = (value: unknown) =>
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  return `${difference.streamName} ${difference.field}: expected ${text(difference.expected)}, got ${text(difference.actual)}`;
}

/**
 * Everything the end of a run must show: hash chains intact and the money adding up (the audit's
 * own checks), every projection equal to the fold of its streams, no final status changed but by
 * support on a case, every transaction final or a case by its deadline, and every final status
 * the provider's truth (support resolves to the truth in the simulation).
 */
export function checkEndOfRun(run: EndOfRun): Violation[] {
  const violations: Violation[] = [];
  const streams = new Map<string, StreamAudit>();
  const accounts = new Map<string, AccountAudit>();
  const silentChanges = new Set<string>();
  for (const event of run.events) {
    if (event.streamName.startsWith(ACCOUNT_PREFIX)) {
      const account = accounts.get(event.streamName) ?? startAccountAudit(event.streamName);
      accounts.set(event.streamName, auditAccountEvent(account, event));
    } else if (event.streamName.startsWith(TRANSACTION_PREFIX)) {
      const audit = streams.get(event.streamName) ?? startStreamAudit(event.streamName);
      const next = auditEvent(audit, event);
      const change = silentChange(audit.state, event);
      if (change && !silentChanges.has(event.streamName)) {
        silentChanges.add(event.streamName);
        violations.push({ invariant: 'no-silent-change', detail: change });
      }
      streams.set(event.streamName, next);
    }
  }

  const funds = checkFunds(streams.values(), accounts.values(), run.now);
  const differences = [
    ...[...streams.values()].flatMap((audit) => audit.differences),
    ...[...accounts.values()].flatMap((account) => account.differences),
    ...funds.differences,
  ];
  for (const difference of differences) {
    violations.push({ invariant: classify(difference), detail: describe(difference) });
  }

  for (const audit of streams.values()) {
    for (const difference of compareWithSummary(audit, run.summaries.get(audit.streamName))) {
      violations.push({ invariant: 'projection-equals-fold', detail: describe(difference) });
    }
    const { state } = audit;
    const late = checkDeadline(state, run.now.getTime(), run.deadlineMs);
    if (late) violations.push(late);
    if (!state.exists || state.status === 'PENDING' || state.reconciliation !== null) continue;
    const providerId = transactionIdOf(audit.streamName);
    const truth = truthStatus(run.submissionsOf(providerId));
    if (truth !== null && truth !== state.status) {
      violations.push({
        invariant: 'truthful-status',
        detail: `${providerId} is ${state.status} (${state.finalSource ?? 'no source'}), the provider says ${truth}`,
      });
    }
  }
  for (const difference of run.accountBalances.differences) {
    violations.push({
      invariant: 'projection-equals-fold',
      detail: `${difference.streamName}: the fold says ${describe({ streamName: '', field: 'balance', expected: difference.fromEvents, actual: difference.fromReadModel })}`,
    });
  }
  return violations;
}

/** A final status turned into another by anything but support resolving a case. */
function silentChange(before: TransactionState, event: RecordedEvent): string | null {
  if (!before.exists || before.status === 'PENDING') return null;
  let after: TransactionState;
  try {
    after = evolve(before, toTransactionEvent(event));
  } catch {
    return null;
  }
  if (!after.exists || after.status === before.status) return null;
  if (event.type === 'ResolvedBySupport' && before.reconciliation !== null) return null;
  return `${before.transactionId} went from ${before.status} to ${after.status} by ${event.type} at revision ${event.revision}`;
}

/** The state of one transaction stream from its events. */
export function foldTransaction(events: readonly RecordedEvent[]): TransactionState {
  return events.map(toTransactionEvent).reduce(evolve, initialState);
}
