/**
 * Generated embedded event stores for benches: realistic transaction streams appended straight
 * through SqliteEventStore, concurrently, so they share group commits.
 */
import { randomUUID } from 'node:crypto';
import { progressReporter } from '../../src/cli/progress';
import type { NewEvent } from '../../src/event-store/event-store.port';
import type { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import { streamNameFor, transactionIdFor } from '../../src/transactions/transaction-id';
import { CURRENT_SCHEMA_VERSION } from '../../src/transactions/transaction-streams';
import type { TransactionEvent } from '../../src/transactions/transaction.events';

/**
 * After TransactionRequested, one of three provider flows with their real event shapes: a final
 * answer to the POST (most), a pending answer and a webhook, or a 504 settled by a status check.
 */
function providerEvents(index: number, at: (seconds: number) => string): TransactionEvent[] {
  const started: TransactionEvent = {
    type: 'ProviderSubmissionStarted',
    data: { attempt: 1, startedAt: at(0.01) },
  };
  const confirmed = (source: 'submission' | 'webhook' | 'status_check', seconds: number) =>
    ({
      type: 'StatusConfirmed',
      data: {
        status: index % 10 === 0 ? 'FAILED' : 'SUCCEEDED',
        source,
        providerStatus: index % 10 === 0 ? 'declined' : 'completed',
        reason: null,
        at: at(seconds),
      },
    }) satisfies TransactionEvent;
  switch (index % 20) {
    case 0:
    case 1:
    case 2:
      return [
        started,
        {
          type: 'ProviderTimedOut',
          data: { attempt: 1, reason: 'gateway_timeout', detail: '504', at: at(30) },
        },
        {
          type: 'StatusCheckScheduled',
          data: { attempt: 1, checkNumber: 1, dueAt: at(31), reason: 'gateway_timeout' },
        },
        {
          type: 'StatusChecked',
          data: { attempt: 1, checkNumber: 1, result: 'completed', at: at(31) },
        },
        confirmed('status_check', 31),
      ];
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
      return [
        started,
        { type: 'ProviderAccepted', data: { attempt: 1, at: at(2) } },
        confirmed('webhook', 15),
      ];
    default:
      return [started, confirmed('submission', 1.5)];
  }
}

function lifeOf(index: number): { streamName: string; events: TransactionEvent[] } {
  const owner = `owner-${index % 1000}`;
  const clientId = `bench-${index}`;
  const transactionId = transactionIdFor(owner, clientId);
  const at = (seconds: number) =>
    new Date(Date.UTC(2026, 5, 1) + index * 20 + seconds * 1000).toISOString();
  const requested: TransactionEvent = {
    type: 'TransactionRequested',
    data: {
      transactionId,
      owner,
      clientId,
      amount: 1000 + (index % 5000),
      currency: 'KES',
      recipient: `+2547${String(index).padStart(8, '0')}`,
      note: index % 3 === 0 ? 'rent' : null,
      requestedAt: at(0),
    },
  };
  return {
    streamName: streamNameFor(transactionId),
    events: [requested, ...providerEvents(index, at)],
  };
}

/** A generated transaction's events as one append by `actor`, sharing one correlation id. */
export function toNewEvents(events: TransactionEvent[], actor: string): NewEvent[] {
  const correlationId = randomUUID();
  return events.map((event) => ({
    id: randomUUID(),
    type: event.type,
    data: { ...event.data },
    metadata: {
      correlationId,
      causationId: correlationId,
      actor,
      schemaVersion: CURRENT_SCHEMA_VERSION,
    },
  }));
}

/**
 * Per batch of transactions: every request, then every transaction's provider events, each
 * round appended concurrently so the store group-commits them. Streams interleave in $all the
 * way concurrent traffic makes them.
 */
export async function generate(
  store: SqliteEventStore,
  events: number,
  batch: number,
  firstIndex = 0,
): Promise<void> {
  const progress = progressReporter('bench generate');
  let written = 0;
  for (let first = firstIndex; written < events; first += batch) {
    const lives = Array.from({ length: batch }, (_, offset) => lifeOf(first + offset));
    await Promise.all(
      lives.map(({ streamName, events: [requested] }) =>
        store.appendToStream(streamName, toNewEvents([requested], 'customer:bench'), {
          expectedRevision: 'no_stream',
        }),
      ),
    );
    await Promise.all(
      lives.map(({ streamName, events: [, ...rest] }) =>
        store.appendToStream(streamName, toNewEvents(rest, 'process-manager'), {
          expectedRevision: 0n,
        }),
      ),
    );
    written += lives.reduce((sum, life) => sum + life.events.length, 0);
    progress.update('generating', Math.min(written, events), events, 'events');
  }
  progress.stop();
}
