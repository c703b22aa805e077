/**
 * What the ledger saw of the provider, read off transaction events: one observation per thing
 * the health figures count. Pure: events in, observations out; the times are the events' own.
 */
import type { TransactionEvent } from '../transactions/transaction.events';

/** How a final transaction got there: straight from an answer, after a timeout, after a loss. */
export type FinalPath = 'answered' | 'timed_out_then_found' | 'lost_then_resubmitted';
export const FINAL_PATHS: readonly FinalPath[] = [
  'answered',
  'timed_out_then_found',
  'lost_then_resubmitted',
];

type Observed =
  /** The provider answered a submission (200 pending or final), `ms` after it started. */
  | { kind: 'answer'; at: number; ms: number }
  /** A submission ended without an answer: `gateway` is the provider's 504, `own` our timeout. */
  | { kind: 'no_answer'; at: number; cause: 'gateway' | 'own' | 'other' }
  | { kind: 'lost'; at: number }
  /** A webhook settled the transaction, `ms` after its attempt started. */
  | { kind: 'webhook'; at: number; ms: number }
  | { kind: 'check'; at: number; rateLimited: boolean }
  /** The transaction became final `ms` after it was requested (or after its first timeout). */
  | { kind: 'final'; at: number; path: FinalPath; ms: number; msAfterTimeout: number | null };

/** `count`: how many alike observations this one stands for once compacted (absent: one). */
export type Observation = Observed & { count?: number };

/** Per pending transaction, what the observations of its later events need. */
export interface ObservedTransaction {
  requestedAt: number;
  attemptStarts: Record<number, number>;
  firstTimeoutAt: number | null;
  lost: boolean;
}

const NO_TRANSACTION = null;

/**
 * Pure: the transaction's tracked facts after `event`, and what it let us observe. A final
 * event ends the tracking (null), so only pending transactions are kept.
 */
export function observe(
  tracked: ObservedTransaction | null,
  event: TransactionEvent,
): { tracked: ObservedTransaction | null; observations: Observation[] } {
  if (event.type === 'TransactionRequested') {
    const requestedAt = Date.parse(event.data.requestedAt);
    return {
      tracked: { requestedAt, attemptStarts: {}, firstTimeoutAt: null, lost: false },
      observations: [],
    };
  }
  if (!tracked) return { tracked: NO_TRANSACTION, observations: [] };
  switch (event.type) {
    case 'ProviderSubmissionStarted':
      return {
        tracked: {
          ...tracked,
          attemptStarts: {
            ...tracked.attemptStarts,
            [event.data.attempt]: Date.parse(event.data.startedAt),
          },
        },
        observations: [],
      };
    case 'ProviderAccepted':
      return { tracked, observations: answered(tracked, event.data.attempt, event.data.at) };
    case 'ProviderTimedOut': {
      const at = Date.parse(event.data.at);
      const cause =
        event.data.reason === 'gateway_timeout'
          ? 'gateway'
          : event.data.reason === 'timeout'
            ? 'own'
            : 'other';
      return {
        tracked: { ...tracked, firstTimeoutAt: tracked.firstTimeoutAt ?? at },
        observations: [{ kind: 'no_answer', at, cause }],
      };
    }
    case 'ProviderAttemptLost':
      return {
        tracked: { ...tracked, lost: true },
        observations: [{ kind: 'lost', at: Date.parse(event.data.at) }],
      };
    case 'StatusChecked':
      return {
        tracked,
        observations: [
          {
            kind: 'check',
            at: Date.parse(event.data.at),
            rateLimited: event.data.result === 'rate_limited',
          },
        ],
      };
    case 'StatusConfirmed':
      return { tracked: NO_TRANSACTION, observations: confirmed(tracked, event) };
    default:
      return { tracked, observations: [] };
  }
}

function latestAttempt(tracked: ObservedTransaction): number | undefined {
  const numbers = Object.keys(tracked.attemptStarts).map(Number);
  return numbers.length === 0 ? undefined : Math.max(...numbers);
}

function answered(tracked: ObservedTransaction, attempt: number, atIso: string): Observation[] {
  const started = tracked.attemptStarts[attempt];
  if (started === undefined) return [];
  const at = Date.parse(atIso);
  return [{ kind: 'answer', at, ms: at - started }];
}

function confirmed(
  tracked: ObservedTransaction,
  event: Extract<TransactionEvent, { type: 'StatusConfirmed' }>,
): Observation[] {
  const attempt = latestAttempt(tracked);
  // Insufficient funds and expired holds never reached the provider: nothing to learn of it.
  if (attempt === undefined) return [];
  const at = Date.parse(event.data.at);
  const observations: Observation[] = [];
  if (event.data.source === 'submission') {
    observations.push(...answered(tracked, attempt, event.data.at));
  }
  if (event.data.source === 'webhook') {
    observations.push({ kind: 'webhook', at, ms: at - tracked.attemptStarts[attempt] });
  }
  const path: FinalPath = tracked.lost
    ? 'lost_then_resubmitted'
    : tracked.firstTimeoutAt !== null
      ? 'timed_out_then_found'
      : 'answered';
  observations.push({
    kind: 'final',
    at,
    path,
    ms: at - tracked.requestedAt,
    msAfterTimeout: tracked.firstTimeoutAt === null ? null : at - tracked.firstTimeoutAt,
  });
  return observations;
}
