import type { Hold } from '../accounts/account.state';
import { fold } from '../transactions/transaction.state';
import type { ExistingTransaction } from '../transactions/transaction.state';
import type { TransactionEvent } from '../transactions/transaction.events';
import { holdSettlement } from './hold-settlement';
import { at, requested, reserved, started } from '../../test/support/transaction-history';

const AT = at(10);
const ACCOUNT = { owner: 'alice', currency: 'KES', at: AT, holdId: 'tx-1' };

const hold = (status: Hold['status']): Hold => ({ amount: 2500, expiresAt: at(3600), status });
const confirmed = (
  status: 'SUCCEEDED' | 'FAILED',
  reason: string | null = null,
): TransactionEvent => ({
  type: 'StatusConfirmed',
  data: {
    status,
    source: reason === 'hold_expired' ? 'ledger' : 'submission',
    providerStatus: null,
    reason,
    at: at(5),
  },
});

function given(...events: TransactionEvent[]): ExistingTransaction {
  const state = fold(events);
  if (!state.exists) throw new Error('no transaction');
  return state;
}

const paid = given(requested, reserved(1), started(1, 1), confirmed('SUCCEEDED'));
const declined = given(requested, reserved(1), started(1, 1), confirmed('FAILED', 'declined'));

describe('the settlement of a hold', () => {
  it('given a SUCCEEDED transaction and its hold held, posts it: the funds are captured', () => {
    expect(holdSettlement(paid, hold('held'), AT)).toEqual({
      command: { type: 'PostHold', ...ACCOUNT },
      funds: 'captured',
    });
  });

  it('given a FAILED transaction and its hold held, voids it as failed: the funds are released', () => {
    expect(holdSettlement(declined, hold('held'), AT)).toEqual({
      command: { type: 'VoidHold', ...ACCOUNT, reason: 'transaction_failed' },
      funds: 'released',
    });
  });

  it('given a transaction failed by its hold expiry, voids the hold as expired', () => {
    const expired = given(requested, confirmed('FAILED', 'hold_expired'));
    expect(holdSettlement(expired, hold('held'), AT)?.command).toEqual({
      type: 'VoidHold',
      ...ACCOUNT,
      reason: 'expired',
    });
  });

  it('given the hold already matching (a second run after a crash), moves nothing but still says where the funds are', () => {
    expect(holdSettlement(paid, hold('posted'), AT)).toEqual({ command: null, funds: 'captured' });
    expect(holdSettlement(declined, hold('voided'), AT)).toEqual({
      command: null,
      funds: 'released',
    });
  });

  it('given support reversed a settled status, reverses the hold to match', () => {
    expect(holdSettlement(declined, hold('posted'), AT)).toEqual({
      command: { type: 'ReverseHold', ...ACCOUNT, to: 'voided', reason: 'resolved_by_support' },
      funds: 'released',
    });
    expect(holdSettlement(paid, hold('voided'), AT)).toEqual({
      command: { type: 'ReverseHold', ...ACCOUNT, to: 'posted', reason: 'resolved_by_support' },
      funds: 'captured',
    });
  });

  it('given nothing held (refused, or requested before accounts), settles nothing', () => {
    expect(holdSettlement(declined, hold('refused'), AT)).toBeNull();
    expect(holdSettlement(paid, undefined, AT)).toBeNull();
  });

  it('given a PENDING transaction, settles nothing: the money may be with the provider', () => {
    expect(
      holdSettlement(given(requested, reserved(1), started(1, 1)), hold('held'), AT),
    ).toBeNull();
  });
});
