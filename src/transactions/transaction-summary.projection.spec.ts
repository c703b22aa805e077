import type { RecordedEvent } from '../event-store/event-store.port';
import { isTransactionStreamEvent } from './transaction-streams';
import { projectTransactionSummary } from './transaction-summary.projection';

function recorded(overrides: Partial<RecordedEvent>): RecordedEvent {
  return {
    id: 'e-1',
    streamName: 'transaction-tx-1',
    type: 'TransactionRequested',
    data: {
      transactionId: 'tx-1',
      owner: 'alice',
      clientId: 'order-1',
      amount: 100,
      currency: 'KES',
      recipient: 'bob',
      note: null,
      requestedAt: '2026-11-21T10:00:00.000Z',
    },
    metadata: {
      correlationId: 'c',
      causationId: 'c',
      actor: 'customer:alice',
      schemaVersion: 1,
      recordedAt: '2026-11-21T10:00:00.000Z',
    },
    revision: 0n,
    position: 42n,
    previousHash: null,
    hash: 'h',
    ...overrides,
  };
}

describe('transaction summary projection', () => {
  it('given no summary, when TransactionRequested, then a PENDING summary ordered by its position', () => {
    const summary = projectTransactionSummary(undefined, recorded({}));
    expect(summary).toMatchObject({
      streamName: 'transaction-tx-1',
      owner: 'alice',
      clientId: 'order-1',
      status: 'PENDING',
      requestedPosition: 42n,
      revision: 0n,
      state: { exists: true, request: { amount: 100, currency: 'KES', recipient: 'bob' } },
    });
  });

  it('given a summary at revision 0, when revision 0 arrives again, then nothing changes', () => {
    const summary = projectTransactionSummary(undefined, recorded({}));
    const again = recorded({ position: 99n, data: { ...recorded({}).data, amount: 999 } });
    expect(projectTransactionSummary(summary, again)).toBe(summary);
  });

  it('only takes transaction events from transaction streams', () => {
    expect(isTransactionStreamEvent(recorded({}))).toBe(true);
    expect(isTransactionStreamEvent(recorded({ streamName: 'other-1' }))).toBe(false);
    expect(isTransactionStreamEvent(recorded({ type: 'SomethingElse' }))).toBe(false);
  });
});
