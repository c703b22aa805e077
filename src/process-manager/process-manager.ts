/**
 * The process manager's decisions, pure: for each event of a transaction, what work must be
 * scheduled or cancelled. Every time it needs comes from the events themselves (the decider
 * records when each check is due), so replaying the streams rebuilds exactly the same plan.
 */
import type { TransactionEvent } from '../transactions/transaction.events';
import type { ScheduleChange } from './checkpointed-schedule.port';
import type { WorkItem, WorkKind } from './work-queue.port';

export interface ProcessManagerSettings {
  /** After this long without a final status, a transaction needs reconciliation. */
  reconciliationDeadlineMs: number;
  /** After this long, a transaction's hold is checked against its state (see SettleHandler). */
  holdTtlMs: number;
  /** Whether final statuses are delivered to a client callback URL. */
  notifyClient: boolean;
}

export type Reaction =
  | { kind: 'schedule'; work: WorkItem }
  | { kind: 'cancel'; transactionId: string; kinds: WorkKind[] };

const ms = (iso: string) => Date.parse(iso);

export function react(
  transactionId: string,
  event: TransactionEvent,
  settings: ProcessManagerSettings,
): Reaction[] {
  const schedule = (kind: WorkKind, dueAt: number, payload: Record<string, unknown> = {}) =>
    ({ kind: 'schedule', work: { transactionId, kind, dueAt, payload } }) as const;
  switch (event.type) {
    case 'TransactionRequested': {
      const requestedAt = ms(event.data.requestedAt);
      return [
        schedule('submit', requestedAt, { attempt: 1 }),
        schedule('deadline', requestedAt + settings.reconciliationDeadlineMs),
        // The hold's expiry check; the final status brings the settlement forward to its time.
        schedule('settle', requestedAt + settings.holdTtlMs),
      ];
    }
    case 'StatusCheckScheduled':
      return [
        schedule('check', ms(event.data.dueAt), {
          attempt: event.data.attempt,
          checkNumber: event.data.checkNumber,
        }),
      ];
    case 'ProviderAttemptLost':
      return [schedule('submit', ms(event.data.at), { attempt: event.data.attempt + 1 })];
    case 'StatusConfirmed':
    case 'ResolvedBySupport': {
      const at = ms(event.data.at);
      const cancel: Reaction = {
        kind: 'cancel',
        transactionId,
        kinds: ['submit', 'check', 'deadline'],
      };
      const settle = schedule('settle', at);
      return settings.notifyClient
        ? [cancel, settle, schedule('notify', at, { delivery: 1 })]
        : [cancel, settle];
    }
    case 'ReconciliationRequired':
      return event.data.reason === 'deadline_exceeded'
        ? [{ kind: 'cancel', transactionId, kinds: ['submit', 'check', 'deadline'] }]
        : [];
    default:
      return [];
  }
}

/**
 * Folds the reactions to a batch of events into one change: the last word on each
 * (transaction, kind) wins, so a plan made and cancelled in the same batch is never stored.
 */
export function netChange(reactions: Reaction[]): ScheduleChange {
  const latest = new Map<
    string,
    WorkItem | { cancelled: { transactionId: string; kind: WorkKind } }
  >();
  for (const reaction of reactions) {
    if (reaction.kind === 'schedule') {
      latest.set(`${reaction.work.transactionId}/${reaction.work.kind}`, reaction.work);
    } else {
      for (const kind of reaction.kinds) {
        latest.set(`${reaction.transactionId}/${kind}`, {
          cancelled: { transactionId: reaction.transactionId, kind },
        });
      }
    }
  }
  const change: ScheduleChange = { schedule: [], cancel: [] };
  for (const entry of latest.values()) {
    if ('cancelled' in entry) {
      change.cancel.push({
        transactionId: entry.cancelled.transactionId,
        kinds: [entry.cancelled.kind],
      });
    } else {
      change.schedule.push(entry);
    }
  }
  return change;
}
