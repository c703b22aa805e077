import type { RecordedEvent } from '../event-store/event-store.port';
import { isTransactionEvent, toTransactionEvent } from '../transactions/transaction-streams';
import type { TransactionEvent } from '../transactions/transaction.events';

/** One line of a transaction's history, as an auditor reads it. */
export interface TimelineEntry {
  time: string;
  revision: string;
  type: string;
  details: string;
  actor: string;
  correlationId: string;
}

/** Pure: the key facts of one event, in words. Data is upcast, so old versions read the same. */
export function describeEvent(event: TransactionEvent): string {
  switch (event.type) {
    case 'TransactionRequested': {
      const { amount, currency, recipient, note, owner, clientId } = event.data;
      const noted = note === null ? '' : `, note ${JSON.stringify(note)}`;
      return `${amount} ${currency} to ${recipient} (${owner}/${clientId})${noted}`;
    }
    case 'ProviderSubmissionStarted':
      return `attempt ${event.data.attempt} sent to the provider`;
    case 'ProviderAccepted':
      return `attempt ${event.data.attempt} pending at the provider`;
    case 'ProviderTimedOut':
      return `attempt ${event.data.attempt}: ${event.data.reason} (${event.data.detail})`;
    case 'StatusCheckScheduled':
      return `check ${event.data.checkNumber} of attempt ${event.data.attempt} due ${event.data.dueAt} (${event.data.reason})`;
    case 'StatusChecked':
      return `check ${event.data.checkNumber} of attempt ${event.data.attempt}: ${event.data.result}`;
    case 'ProviderAttemptLost':
      return `attempt ${event.data.attempt} proven lost`;
    case 'StatusConfirmed': {
      const { status, source, providerStatus, reason } = event.data;
      return `${status} from ${source}${providerStatus ? ` (${providerStatus})` : ''}${reason ? `: ${reason}` : ''}`;
    }
    case 'ConflictingStatusReported':
      return `${event.data.source} says ${event.data.reported}, but ${event.data.confirmed} was confirmed`;
    case 'ReconciliationRequired':
      return `needs reconciliation: ${event.data.reason}`;
    case 'ResolvedBySupport':
      return `${event.data.status} (was ${event.data.previousStatus}): ${JSON.stringify(event.data.note)}`;
    case 'FundsReserved':
      return `${event.data.amount} held on the customer's account`;
    case 'FundsRefused':
      return `hold of ${event.data.amount} refused: ${event.data.available} available`;
    case 'FundsCaptured':
      return `${event.data.amount} captured (hold posted)`;
    case 'FundsReleased':
      return `${event.data.amount} released (hold voided)`;
  }
}

export function timelineEntry(event: RecordedEvent): TimelineEntry {
  return {
    time: event.metadata.recordedAt,
    revision: event.revision.toString(),
    type: event.type,
    details: detailsOf(event),
    actor: event.metadata.actor,
    correlationId: event.metadata.correlationId,
  };
}

function detailsOf(event: RecordedEvent): string {
  if (!isTransactionEvent(event)) return '(not a transaction event)';
  try {
    return describeEvent(toTransactionEvent(event));
  } catch (error) {
    // The history must still show an event this code cannot read (e.g. a newer schema version).
    return `(unreadable: ${(error as Error).message})`;
  }
}

const COLUMNS: readonly { title: string; key: keyof TimelineEntry }[] = [
  { title: 'time', key: 'time' },
  { title: 'rev', key: 'revision' },
  { title: 'type', key: 'type' },
  { title: 'actor', key: 'actor' },
  { title: 'correlation id', key: 'correlationId' },
  { title: 'details', key: 'details' },
];

/** Pure: aligned text columns, details last because it is the one of unbounded width. */
export function formatTimeline(entries: readonly TimelineEntry[]): string[] {
  const widths = COLUMNS.map(({ title, key }) =>
    Math.max(title.length, ...entries.map((entry) => entry[key].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]))
      .join('  ')
      .trimEnd();
  return [
    line(COLUMNS.map(({ title }) => title)),
    ...entries.map((entry) => line(COLUMNS.map(({ key }) => entry[key]))),
  ];
}
