/**
 * The money side of a transaction, given/when/then: the hold's refusal ends it before the
 * provider, its settlement follows the final status, and its expiry releases only what can never
 * have reached the provider.
 */
import { TransactionCommand } from './transaction.commands';
import { decide } from './transaction.decider';
import { TransactionEvent } from './transaction.events';
import { ExistingTransaction, fold } from './transaction.state';
import { at, policy, requested, reserved, started } from '../../test/support/transaction-history';

function given(...events: TransactionEvent[]) {
  return { when: (command: TransactionCommand) => decide(command, fold(events)) };
}

const confirmed = (status: 'SUCCEEDED' | 'FAILED', second: number): TransactionEvent => ({
  type: 'StatusConfirmed',
  data: {
    status,
    source: 'submission',
    providerStatus: status === 'SUCCEEDED' ? 'completed' : 'declined',
    reason: null,
    at: at(second),
  },
});
const refused = (second: number): TransactionCommand => ({
  type: 'RecordFundsRefused',
  available: 1000,
  at: at(second),
});
const settled = (funds: 'captured' | 'released', second: number): TransactionCommand => ({
  type: 'RecordFundsSettled',
  funds,
  at: at(second),
});
const expire = (second: number): TransactionCommand => ({ type: 'ExpireHold', at: at(second) });
const captured = (second: number): TransactionEvent => ({
  type: 'FundsCaptured',
  data: { amount: 2500, at: at(second) },
});
const released = (second: number): TransactionEvent => ({
  type: 'FundsReleased',
  data: { amount: 2500, at: at(second) },
});
const resolved = (
  status: 'SUCCEEDED' | 'FAILED',
  previousStatus: 'SUCCEEDED' | 'FAILED',
  second: number,
): TransactionEvent => ({
  type: 'ResolvedBySupport',
  data: {
    status,
    previousStatus,
    reconciliation: 'conflicting_reports',
    note: 'checked with the provider',
    providerStatus: null,
    at: at(second),
  },
});

describe('transaction decider: the money', () => {
  describe('insufficient funds', () => {
    it('given a requested transaction, when its hold is refused, then it fails without the provider', () => {
      const events = given(requested).when(refused(1));
      expect(events).toEqual([
        { type: 'FundsRefused', data: { amount: 2500, available: 1000, at: at(1) } },
        {
          type: 'StatusConfirmed',
          data: {
            status: 'FAILED',
            source: 'ledger',
            providerStatus: null,
            reason: 'insufficient_funds',
            at: at(1),
          },
        },
      ]);
      const state = fold([requested, ...events]) as ExistingTransaction;
      expect(state).toMatchObject({
        status: 'FAILED',
        stage: 'final',
        funds: 'refused',
        failureReason: 'insufficient_funds',
        finalSource: 'ledger',
        attempts: [],
      });
    });

    it('given the refusal recorded, when it is recorded again (a replay), then nothing', () => {
      const first = given(requested).when(refused(1));
      expect(given(requested, ...first).when(refused(2))).toEqual([]);
    });

    it('given the hold recorded, when a refusal arrives, then nothing: the money is held', () => {
      expect(given(requested, reserved(1)).when(refused(2))).toEqual([]);
    });

    it('given a final transaction without a recorded hold, when a refusal arrives, then nothing', () => {
      expect(given(requested, confirmed('FAILED', 1)).when(refused(2))).toEqual([]);
    });

    it('given a refused transaction, when a submission would start, then nothing', () => {
      const history = [requested, ...given(requested).when(refused(1))];
      expect(
        given(...history).when({
          type: 'StartSubmission',
          attempt: 1,
          at: at(2),
          policy,
          heldAmount: 2500,
        }),
      ).toEqual([]);
    });
  });

  describe('settlement', () => {
    const paid = [requested, reserved(1), started(1, 1), confirmed('SUCCEEDED', 5)];
    const declined = [requested, reserved(1), started(1, 1), confirmed('FAILED', 5)];

    it('given a SUCCEEDED transaction, when its hold is posted, then the funds are captured', () => {
      expect(given(...paid).when(settled('captured', 6))).toEqual([captured(6)]);
      expect(fold([...paid, captured(6)])).toMatchObject({ funds: 'captured' });
    });

    it('given a FAILED transaction, when its hold is voided, then the funds are released', () => {
      expect(given(...declined).when(settled('released', 6))).toEqual([released(6)]);
      expect(fold([...declined, released(6)])).toMatchObject({ funds: 'released' });
    });

    it('given the funds captured, when the capture is recorded again, then nothing', () => {
      expect(given(...paid, captured(6)).when(settled('captured', 7))).toEqual([]);
    });

    it('given a SUCCEEDED transaction, when a release is reported, then nothing: the money follows the status', () => {
      expect(given(...paid).when(settled('released', 6))).toEqual([]);
    });

    it('given a PENDING transaction, when a settlement is reported, then nothing', () => {
      expect(given(requested, reserved(1), started(1, 1)).when(settled('captured', 6))).toEqual([]);
    });

    it('given a refused transaction, when a release is reported, then nothing: there was no hold', () => {
      const history = [requested, ...given(requested).when(refused(1))];
      expect(given(...history).when(settled('released', 6))).toEqual([]);
    });

    it('given a hold never recorded here (it failed before its first submission), when its release is reported, then it is recorded', () => {
      const expired = confirmed('FAILED', 5);
      expect(given(requested, expired).when(settled('released', 6))).toEqual([released(6)]);
    });

    it('given captured funds and support then deciding FAILED, when the reversal is reported, then the funds are released', () => {
      const reversed = [
        ...paid,
        captured(6),
        {
          type: 'ConflictingStatusReported',
          data: { reported: 'declined', source: 'webhook', confirmed: 'SUCCEEDED', at: at(7) },
        } as TransactionEvent,
        {
          type: 'ReconciliationRequired',
          data: { reason: 'conflicting_reports', at: at(7) },
        } as TransactionEvent,
        resolved('FAILED', 'SUCCEEDED', 8),
      ];
      expect(given(...reversed).when(settled('released', 9))).toEqual([released(9)]);
    });
  });

  describe('the hold expiry', () => {
    it('given a transaction never submitted, when its hold expires, then it fails: nothing can have reached the provider', () => {
      expect(given(requested).when(expire(4_500))).toEqual([
        {
          type: 'StatusConfirmed',
          data: {
            status: 'FAILED',
            source: 'ledger',
            providerStatus: null,
            reason: 'hold_expired',
            at: at(4_500),
          },
        },
      ]);
    });

    it('given a submitted transaction, when its hold expires, then nothing: the money may be with the provider', () => {
      expect(given(requested, reserved(1), started(1, 1)).when(expire(4_500))).toEqual([]);
    });

    it('given a final transaction, when its hold expires, then nothing', () => {
      expect(given(requested, confirmed('FAILED', 5)).when(expire(4_500))).toEqual([]);
    });
  });
});
