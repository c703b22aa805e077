import {
  IdempotencyKeyReusedError,
  RequestTransaction,
  TransactionEvent,
  TransactionRequested,
  decide,
  fold,
} from './transaction.decider';

const request: RequestTransaction = {
  type: 'RequestTransaction',
  transactionId: 'tx-1',
  owner: 'alice',
  clientId: 'order-1',
  request: { amount: 2500, currency: 'KES', recipient: '+254700000001', note: 'rent' },
  requestedAt: '2026-11-21T10:00:00.000Z',
};

const requested: TransactionRequested = {
  type: 'TransactionRequested',
  data: {
    transactionId: 'tx-1',
    owner: 'alice',
    clientId: 'order-1',
    amount: 2500,
    currency: 'KES',
    recipient: '+254700000001',
    note: 'rent',
    requestedAt: '2026-11-21T10:00:00.000Z',
  },
};

/** given past events, when a command: the new events, or the error it raises. */
function given(events: TransactionEvent[]) {
  return {
    when: (command: RequestTransaction) => () => decide(command, fold(events)),
  };
}

describe('transaction decider', () => {
  describe('RequestTransaction', () => {
    it('given no stream, records TransactionRequested with the request and its time', () => {
      expect(given([]).when(request)()).toEqual([requested]);
    });

    it('given the same request already recorded, records nothing (idempotent replay)', () => {
      expect(
        given([requested]).when({ ...request, requestedAt: '2026-11-21T11:00:00Z' })(),
      ).toEqual([]);
    });

    it.each([
      ['amount', { amount: 2501 }],
      ['currency', { currency: 'USD' }],
      ['recipient', { recipient: '+254700000002' }],
      ['note', { note: null }],
    ])('given the same id with a different %s, refuses: the key was reused', (_field, change) => {
      const changed = { ...request, request: { ...request.request, ...change } };
      expect(given([requested]).when(changed)).toThrow(IdempotencyKeyReusedError);
    });
  });

  describe('evolve', () => {
    it('a requested transaction is PENDING at stage requested, with the request kept', () => {
      expect(fold([requested])).toEqual({
        exists: true,
        transactionId: 'tx-1',
        owner: 'alice',
        clientId: 'order-1',
        request: { amount: 2500, currency: 'KES', recipient: '+254700000001', note: 'rent' },
        status: 'PENDING',
        stage: 'requested',
        requestedAt: '2026-11-21T10:00:00.000Z',
        updatedAt: '2026-11-21T10:00:00.000Z',
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
      });
    });

    it('nothing recorded means no transaction', () => {
      expect(fold([])).toEqual({ exists: false });
    });
  });
});
