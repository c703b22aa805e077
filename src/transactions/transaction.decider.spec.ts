import { RequestTransaction } from './transaction.commands';
import { decide } from './transaction.decider';
import { IdempotencyKeyReusedError, ResolutionNotAllowedError } from './transaction.errors';
import {
  TRANSACTION_EVENT_TYPES,
  TransactionEvent,
  TransactionRequested,
} from './transaction.events';
import { fold } from './transaction.state';

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

  describe('refusals', () => {
    /** The error a refused command throws. */
    function refusal(command: () => unknown): unknown {
      try {
        command();
      } catch (error) {
        return error;
      }
      throw new Error('the command was not refused');
    }

    // The message becomes the problem detail a client reads; the name is what logs show.
    it('given the same id with a different body, the error names the reused id', () => {
      const changed = { ...request, request: { ...request.request, amount: 1 } };
      expect(refusal(given([requested]).when(changed))).toMatchObject({
        name: 'IdempotencyKeyReusedError',
        message: 'Transaction id order-1 was already used for a different request',
      });
    });

    it('given no transaction, a command for it is refused as not found', () => {
      const expire = () =>
        decide({ type: 'ExpireDeadline', at: '2026-11-21T10:15:00.000Z' }, fold([]));
      expect(refusal(expire)).toMatchObject({
        name: 'TransactionNotFoundError',
        message: 'No such transaction',
      });
    });

    it('given no case open, a support resolution is refused and says why', () => {
      const resolve = () =>
        decide(
          {
            type: 'ResolveBySupport',
            status: 'FAILED',
            note: 'n/a',
            providerStatus: null,
            at: '2026-11-21T10:05:00.000Z',
          },
          fold([requested]),
        );
      expect(refusal(resolve)).toBeInstanceOf(ResolutionNotAllowedError);
      expect(refusal(resolve)).toMatchObject({
        name: 'ResolutionNotAllowedError',
        message: 'Only a transaction that needs reconciliation can be resolved by support',
      });
    });
  });

  describe('evolve', () => {
    it('every event the decider records is a known type, so it is read back from the store', () => {
      const recorded = given([]).when(request)();
      expect(TRANSACTION_EVENT_TYPES).toContain(recorded[0].type);
    });

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
        funds: null,
      });
    });

    it('nothing recorded means no transaction', () => {
      expect(fold([])).toEqual({ exists: false });
    });
  });
});
