import { decide } from '../transactions/transaction.decider';
import { TransactionEvent } from '../transactions/transaction.events';
import { fold } from '../transactions/transaction.state';
import { queueReasonOf } from './reconciliation-queue';

const REQUESTED_AT = '2025-01-02T03:04:05.678Z';

function requested(): TransactionEvent[] {
  return decide(
    {
      type: 'RequestTransaction',
      transactionId: 'tx-1',
      owner: 'alice',
      clientId: 'c1',
      request: { amount: 100, currency: 'KES', recipient: 'bob', note: null },
      requestedAt: REQUESTED_AT,
    },
    { exists: false },
  );
}

const confirmed: TransactionEvent = {
  type: 'StatusConfirmed',
  data: {
    status: 'SUCCEEDED',
    source: 'submission',
    providerStatus: 'completed',
    reason: null,
    at: '2025-01-02T03:04:06.000Z',
  },
};

const AFTER_REQUEST = '2025-01-02T03:14:05.678Z';
const BEFORE_REQUEST = '2025-01-02T03:00:00.000Z';

describe('queueReasonOf', () => {
  it('queues a PENDING transaction requested before the cutoff as pending too long', () => {
    expect(queueReasonOf(fold(requested()), AFTER_REQUEST)).toBe('pending_too_long');
  });

  it('leaves out a PENDING transaction requested at or after the cutoff', () => {
    expect(queueReasonOf(fold(requested()), BEFORE_REQUEST)).toBeNull();
    expect(queueReasonOf(fold(requested()), REQUESTED_AT)).toBeNull();
  });

  it('leaves out a final transaction however old', () => {
    expect(queueReasonOf(fold([...requested(), confirmed]), AFTER_REQUEST)).toBeNull();
  });

  it('queues an open case as needing reconciliation, even when it is also old and pending', () => {
    const expired = decide({ type: 'ExpireDeadline', at: AFTER_REQUEST }, fold(requested()));
    const state = fold([...requested(), ...expired]);
    expect(queueReasonOf(state, AFTER_REQUEST)).toBe('needs_reconciliation');
    expect(queueReasonOf(state, BEFORE_REQUEST)).toBe('needs_reconciliation');
  });

  it('queues a contradicted final status as needing reconciliation', () => {
    const final = fold([...requested(), confirmed]);
    const conflict = decide(
      {
        type: 'RecordProviderReport',
        status: 'declined',
        source: 'webhook',
        at: AFTER_REQUEST,
        reportId: null,
      },
      final,
    );
    expect(queueReasonOf(fold([...requested(), confirmed, ...conflict]), BEFORE_REQUEST)).toBe(
      'needs_reconciliation',
    );
  });

  it('queues nothing for a transaction that does not exist', () => {
    expect(queueReasonOf({ exists: false }, AFTER_REQUEST)).toBeNull();
  });
});
