/** Recorded events of transaction streams, numbered in `$all` order, for projection specs. */
import type { EventData, RecordedEvent } from '../../src/event-store/event-store.port';
import { CURRENT_SCHEMA_VERSION } from '../../src/transactions/transaction-streams';

/**
 * A factory whose events take the next `$all` position each, all recorded at `recordedAt`: the
 * projections under test read only the type, data and position.
 */
export function recordedEvents(
  recordedAt: string,
): (transaction: string, type: string, data: EventData) => RecordedEvent {
  let position = 0n;
  return (transaction, type, data) => {
    position += 1n;
    return {
      id: `e-${position}`,
      streamName: `transaction-${transaction}`,
      type,
      data,
      metadata: {
        correlationId: 'c',
        causationId: 'c',
        actor: 'system',
        schemaVersion: CURRENT_SCHEMA_VERSION,
        recordedAt,
      },
      revision: 0n,
      position,
      previousHash: null,
      hash: 'h',
    };
  };
}
