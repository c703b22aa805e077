import type { AccountCommand, Deposit, PlaceHold } from './account.commands';
import { decide } from './account.decider';
import {
  AccountCommandIdReusedError,
  HoldAlreadySettledError,
  HoldNotExpiredError,
  HoldNotFoundError,
  HoldNotSettledError,
  InvalidAmountError,
} from './account.errors';
import { ACCOUNT_EVENT_TYPES, AccountEvent } from './account.events';
import { availableBalance, fold } from './account.state';
import type { OpenAccount } from './account.state';

const AT = '2026-12-01T10:00:00.000Z';
const LATER = '2026-12-01T10:30:00.000Z';
const EXPIRES = '2026-12-01T10:15:00.000Z';
const ACCOUNT = { owner: 'alice', currency: 'KES' };

const opened: AccountEvent = {
  type: 'AccountOpened',
  data: { owner: 'alice', currency: 'KES', openedAt: AT },
};
const deposited: AccountEvent = {
  type: 'FundsDeposited',
  data: { depositId: 'dep-1', amount: 1000, reference: 'wire 42', at: AT },
};
const held: AccountEvent = {
  type: 'FundsHeld',
  data: { holdId: 'tx-1', amount: 600, expiresAt: EXPIRES, at: AT },
};

const deposit: Deposit = {
  type: 'Deposit',
  ...ACCOUNT,
  depositId: 'dep-1',
  amount: 1000,
  reference: 'wire 42',
  at: AT,
};
const hold: PlaceHold = {
  type: 'PlaceHold',
  ...ACCOUNT,
  holdId: 'tx-1',
  amount: 600,
  expiresAt: EXPIRES,
  at: AT,
};
const post: AccountCommand = { type: 'PostHold', ...ACCOUNT, holdId: 'tx-1', at: LATER };
const voidFailed: AccountCommand = {
  type: 'VoidHold',
  ...ACCOUNT,
  holdId: 'tx-1',
  reason: 'transaction_failed',
  at: LATER,
};

/** given past events, when a command: the new events, or the error it raises. */
function given(events: AccountEvent[]) {
  return { when: (command: AccountCommand) => () => decide(command, fold(events)) };
}

function balances(events: AccountEvent[]) {
  const account = fold(events) as OpenAccount;
  return {
    posted: account.posted,
    pending: account.pending,
    available: availableBalance(account),
  };
}

describe('account errors', () => {
  it.each([
    new AccountCommandIdReusedError('Hold', 'tx-1'),
    new InvalidAmountError('amount must be a whole number of minor units, at least 1'),
    new HoldNotFoundError('tx-1'),
    new HoldAlreadySettledError('tx-1', 'posted'),
    new HoldNotExpiredError('tx-1', EXPIRES),
    new HoldNotSettledError('tx-1'),
  ])('$name carries its own name, so logs and problem mapping tell them apart', (error) => {
    expect(error.name).toBe(error.constructor.name);
    expect(error).toBeInstanceOf(Error);
  });
});

describe('account decider', () => {
  describe('Deposit', () => {
    it('given no account, opens it and records the deposit', () => {
      expect(given([]).when(deposit)()).toEqual([opened, deposited]);
    });

    it('given the same deposit recorded, records nothing (idempotent replay)', () => {
      expect(given([opened, deposited]).when({ ...deposit, at: LATER })()).toEqual([]);
    });

    it.each([
      ['amount', { amount: 1001 }],
      ['reference', { reference: 'wire 43' }],
    ])('given the same id with a different %s, refuses: the id was reused', (_field, change) => {
      expect(given([opened, deposited]).when({ ...deposit, ...change })).toThrow(
        new AccountCommandIdReusedError('Deposit', 'dep-1'),
      );
    });

    it.each([0, -5, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])(
      'refuses the amount %p',
      (amount) => {
        expect(given([]).when({ ...deposit, amount })).toThrow(
          new InvalidAmountError('amount must be a whole number of minor units, at least 1'),
        );
      },
    );

    it('refuses a deposit that would take the balance beyond a safe integer', () => {
      const big = { ...deposit, depositId: 'dep-2', amount: Number.MAX_SAFE_INTEGER };
      expect(given([opened, deposited]).when(big)).toThrow(
        new InvalidAmountError('amount would take the balance beyond what can be counted'),
      );
      const largest = { ...big, amount: Number.MAX_SAFE_INTEGER - 1000 };
      expect(given([opened, deposited]).when(largest)()).toHaveLength(1);
    });

    it('a deposit adds to posted and available', () => {
      expect(balances([opened, deposited])).toEqual({ posted: 1000, pending: 0, available: 1000 });
    });
  });

  describe('SetOverdraftLimit', () => {
    const set: AccountCommand = {
      type: 'SetOverdraftLimit',
      ...ACCOUNT,
      changeId: 'od-1',
      limit: 500,
      at: AT,
    };
    const limitSet: AccountEvent = {
      type: 'OverdraftLimitSet',
      data: { changeId: 'od-1', limit: 500, at: AT },
    };

    it('given no account, opens it with the limit; the limit adds to available', () => {
      expect(given([]).when(set)()).toEqual([opened, limitSet]);
      expect(balances([opened, limitSet])).toEqual({ posted: 0, pending: 0, available: 500 });
    });

    it('given the same change, records nothing; the same id with another limit is refused', () => {
      expect(given([opened, limitSet]).when(set)()).toEqual([]);
      expect(given([opened, limitSet]).when({ ...set, limit: 501 })).toThrow(
        AccountCommandIdReusedError,
      );
    });

    it('refuses a negative limit and accepts zero', () => {
      expect(given([]).when({ ...set, limit: -1 })).toThrow(
        new InvalidAmountError('limit must be a whole number of minor units, zero or more'),
      );
      expect(given([]).when({ ...set, limit: 0.5 })).toThrow(InvalidAmountError);
      expect(given([]).when({ ...set, limit: 0 })()).toHaveLength(2);
    });
  });

  describe('PlaceHold', () => {
    it('given the balance covers it, holds the amount: pending grows, available shrinks', () => {
      expect(given([opened, deposited]).when(hold)()).toEqual([held]);
      expect(balances([opened, deposited, held])).toEqual({
        posted: 1000,
        pending: 600,
        available: 400,
      });
    });

    it('given exactly the available balance, holds it; one more is refused', () => {
      expect(given([opened, deposited]).when({ ...hold, amount: 1000 })()).toEqual([
        { type: 'FundsHeld', data: { ...held.data, amount: 1000 } },
      ]);
      expect(given([opened, deposited]).when({ ...hold, amount: 1001 })()).toEqual([
        {
          type: 'HoldRefused',
          data: {
            holdId: 'tx-1',
            amount: 1001,
            reason: 'insufficient_funds',
            available: 1000,
            at: AT,
          },
        },
      ]);
    });

    it.each([0, -5, 1.5, Number.NaN])('refuses the amount %p', (amount) => {
      expect(given([opened, deposited]).when({ ...hold, amount })).toThrow(
        new InvalidAmountError('amount must be a whole number of minor units, at least 1'),
      );
    });

    it('given the balance does not cover it, records the refusal with the balance it saw', () => {
      const second = { ...hold, holdId: 'tx-2', amount: 401 };
      expect(given([opened, deposited, held]).when(second)()).toEqual([
        {
          type: 'HoldRefused',
          data: {
            holdId: 'tx-2',
            amount: 401,
            reason: 'insufficient_funds',
            available: 400,
            at: AT,
          },
        },
      ]);
    });

    it('given no account, opens it and refuses the hold: nothing to spend', () => {
      const events = given([]).when(hold)();
      expect(events.map((event) => event.type)).toEqual(['AccountOpened', 'HoldRefused']);
    });

    it('the overdraft limit counts towards what a hold may take', () => {
      const limitSet: AccountEvent = {
        type: 'OverdraftLimitSet',
        data: { changeId: 'od-1', limit: 200, at: AT },
      };
      const events = given([opened, deposited, limitSet]).when({ ...hold, amount: 1200 })();
      expect(events.map((event) => event.type)).toEqual(['FundsHeld']);
    });

    it('given the hold recorded, a replay records nothing, even with a later expiry', () => {
      expect(given([opened, deposited, held]).when({ ...hold, expiresAt: LATER })()).toEqual([]);
    });

    it('given the hold refused, a replay records nothing even after a deposit: the answer stands', () => {
      const refused = decide(hold, fold([opened]));
      const more: AccountEvent = {
        type: 'FundsDeposited',
        data: { depositId: 'dep-9', amount: 5000, reference: 'late', at: LATER },
      };
      expect(given([opened, ...refused, more]).when(hold)()).toEqual([]);
    });

    it('given the same hold id with another amount, refuses: the id was reused', () => {
      expect(given([opened, deposited, held]).when({ ...hold, amount: 601 })).toThrow(
        new AccountCommandIdReusedError('Hold', 'tx-1'),
      );
    });
  });

  describe('PostHold', () => {
    const posted: AccountEvent = {
      type: 'HoldPosted',
      data: { holdId: 'tx-1', amount: 600, at: LATER },
    };

    it('given a held hold, posts it: posted and pending both drop, available stays', () => {
      expect(given([opened, deposited, held]).when(post)()).toEqual([posted]);
      expect(balances([opened, deposited, held, posted])).toEqual({
        posted: 400,
        pending: 0,
        available: 400,
      });
    });

    it('given it posted, a replay records nothing; voiding it is refused', () => {
      expect(given([opened, deposited, held, posted]).when(post)()).toEqual([]);
      expect(given([opened, deposited, held, posted]).when(voidFailed)).toThrow(
        new HoldAlreadySettledError('tx-1', 'posted'),
      );
    });

    it('given no such hold, or a refused one, refuses: nothing to post', () => {
      expect(given([opened, deposited]).when(post)).toThrow(new HoldNotFoundError('tx-1'));
      expect(given([]).when(post)).toThrow(new HoldNotFoundError('tx-1'));
      const refused = decide({ ...hold, amount: 5000 }, fold([opened, deposited]));
      expect(given([opened, deposited, ...refused]).when(post)).toThrow(
        new HoldNotFoundError('tx-1'),
      );
    });
  });

  describe('VoidHold', () => {
    const voided: AccountEvent = {
      type: 'HoldVoided',
      data: { holdId: 'tx-1', amount: 600, reason: 'transaction_failed', at: LATER },
    };

    it('given a held hold, voids it: pending drops, available comes back', () => {
      expect(given([opened, deposited, held]).when(voidFailed)()).toEqual([voided]);
      expect(balances([opened, deposited, held, voided])).toEqual({
        posted: 1000,
        pending: 0,
        available: 1000,
      });
    });

    it('given it voided, a replay records nothing; posting it is refused', () => {
      expect(given([opened, deposited, held, voided]).when(voidFailed)()).toEqual([]);
      expect(given([opened, deposited, held, voided]).when(post)).toThrow(
        new HoldAlreadySettledError('tx-1', 'voided'),
      );
    });

    it('given no such hold, or a refused one, refuses: nothing to void', () => {
      expect(given([opened, deposited]).when(voidFailed)).toThrow(new HoldNotFoundError('tx-1'));
      const refused = decide({ ...hold, amount: 5000 }, fold([opened, deposited]));
      expect(given([opened, deposited, ...refused]).when(voidFailed)).toThrow(
        new HoldNotFoundError('tx-1'),
      );
    });

    it('as expired, refuses before the expiry (to the millisecond) and voids from it on', () => {
      const expire = { ...voidFailed, reason: 'expired' as const };
      const justBefore = new Date(Date.parse(EXPIRES) - 1).toISOString();
      expect(given([opened, deposited, held]).when({ ...expire, at: AT })).toThrow(
        new HoldNotExpiredError('tx-1', EXPIRES),
      );
      expect(given([opened, deposited, held]).when({ ...expire, at: justBefore })).toThrow(
        new HoldNotExpiredError('tx-1', EXPIRES),
      );
      expect(given([opened, deposited, held]).when({ ...expire, at: EXPIRES })()).toEqual([
        { type: 'HoldVoided', data: { ...voided.data, reason: 'expired', at: EXPIRES } },
      ]);
    });
  });

  describe('ReverseHold', () => {
    const posted: AccountEvent = {
      type: 'HoldPosted',
      data: { holdId: 'tx-1', amount: 600, at: LATER },
    };
    const voided: AccountEvent = {
      type: 'HoldVoided',
      data: { holdId: 'tx-1', amount: 600, reason: 'transaction_failed', at: LATER },
    };
    const reverse = (to: 'posted' | 'voided'): AccountCommand => ({
      type: 'ReverseHold',
      ...ACCOUNT,
      holdId: 'tx-1',
      to,
      reason: 'resolved_by_support',
      at: LATER,
    });
    const refunded: AccountEvent = {
      type: 'PostedHoldRefunded',
      data: { holdId: 'tx-1', amount: 600, reason: 'resolved_by_support', at: LATER },
    };
    const taken: AccountEvent = {
      type: 'VoidedHoldPosted',
      data: { holdId: 'tx-1', amount: 600, reason: 'resolved_by_support', at: LATER },
    };

    it('given a posted hold, reversing it to voided refunds it: posted and available come back', () => {
      expect(given([opened, deposited, held, posted]).when(reverse('voided'))()).toEqual([
        refunded,
      ]);
      expect(balances([opened, deposited, held, posted, refunded])).toEqual({
        posted: 1000,
        pending: 0,
        available: 1000,
      });
    });

    it('given a voided hold, reversing it to posted takes it after all: posted and available drop', () => {
      expect(given([opened, deposited, held, voided]).when(reverse('posted'))()).toEqual([taken]);
      expect(balances([opened, deposited, held, voided, taken])).toEqual({
        posted: 400,
        pending: 0,
        available: 400,
      });
    });

    it('takes a voided hold even below the overdraft limit: the money already left', () => {
      const spent: AccountEvent = {
        type: 'FundsHeld',
        data: { holdId: 'tx-2', amount: 1000, expiresAt: EXPIRES, at: LATER },
      };
      const past = [opened, deposited, held, voided, spent];
      expect(given(past).when(reverse('posted'))()).toEqual([taken]);
      expect(balances([...past, taken])).toEqual({ posted: 400, pending: 1000, available: -600 });
    });

    it('given the hold already where it is asked to go, records nothing', () => {
      expect(given([opened, deposited, held, posted]).when(reverse('posted'))()).toEqual([]);
      expect(given([opened, deposited, held, voided]).when(reverse('voided'))()).toEqual([]);
      expect(given([opened, deposited, held, posted, refunded]).when(reverse('voided'))()).toEqual(
        [],
      );
      expect(given([opened, deposited, held, voided, taken]).when(reverse('posted'))()).toEqual([]);
    });

    it('a reversed hold can be reversed back', () => {
      expect(given([opened, deposited, held, posted, refunded]).when(reverse('posted'))()).toEqual([
        taken,
      ]);
      expect(given([opened, deposited, held, voided, taken]).when(reverse('voided'))()).toEqual([
        refunded,
      ]);
    });

    it('given the hold still held, refuses either way: it is posted or voided instead', () => {
      for (const to of ['posted', 'voided'] as const) {
        expect(given([opened, deposited, held]).when(reverse(to))).toThrow(
          new HoldNotSettledError('tx-1'),
        );
      }
    });

    it('given no such hold, or a refused one, refuses: nothing to reverse', () => {
      expect(given([]).when(reverse('voided'))).toThrow(new HoldNotFoundError('tx-1'));
      expect(given([opened, deposited]).when(reverse('posted'))).toThrow(
        new HoldNotFoundError('tx-1'),
      );
      const refused = decide({ ...hold, amount: 5000 }, fold([opened, deposited]));
      expect(given([opened, deposited, ...refused]).when(reverse('posted'))).toThrow(
        new HoldNotFoundError('tx-1'),
      );
    });

    it('a settled hold is still settled after its reversal: posting or voiding records nothing or is refused', () => {
      const refundedPast = [opened, deposited, held, posted, refunded];
      expect(given(refundedPast).when(voidFailed)()).toEqual([]);
      expect(given(refundedPast).when(post)).toThrow(new HoldAlreadySettledError('tx-1', 'voided'));
      const takenPast = [opened, deposited, held, voided, taken];
      expect(given(takenPast).when(post)()).toEqual([]);
      expect(given(takenPast).when(voidFailed)).toThrow(
        new HoldAlreadySettledError('tx-1', 'posted'),
      );
    });
  });

  describe('evolve', () => {
    it('the known types are exactly those the decider records, so each is read back from the store', () => {
      const posted: AccountEvent = {
        type: 'HoldPosted',
        data: { holdId: 'tx-1', amount: 600, at: LATER },
      };
      const voided: AccountEvent = {
        type: 'HoldVoided',
        data: { holdId: 'tx-1', amount: 600, reason: 'transaction_failed', at: LATER },
      };
      const reverse = (to: 'posted' | 'voided'): AccountCommand => ({
        type: 'ReverseHold',
        ...ACCOUNT,
        holdId: 'tx-1',
        to,
        reason: 'resolved_by_support',
        at: LATER,
      });
      const recorded = [
        ...decide(deposit, fold([])),
        ...decide(
          { type: 'SetOverdraftLimit', ...ACCOUNT, changeId: 'od-1', limit: 1, at: AT },
          fold([opened]),
        ),
        ...decide(hold, fold([opened, deposited])),
        ...decide({ ...hold, holdId: 'tx-2', amount: 9999 }, fold([opened, deposited])),
        ...decide(post, fold([opened, deposited, held])),
        ...decide(voidFailed, fold([opened, deposited, held])),
        ...decide(reverse('voided'), fold([opened, deposited, held, posted])),
        ...decide(reverse('posted'), fold([opened, deposited, held, voided])),
      ];
      expect(new Set(recorded.map((event) => event.type))).toEqual(new Set(ACCOUNT_EVENT_TYPES));
      expect(ACCOUNT_EVENT_TYPES).toHaveLength(new Set(ACCOUNT_EVENT_TYPES).size);
    });

    it('nothing recorded means no account', () => {
      expect(fold([])).toEqual({ opened: false });
    });

    it('an event before AccountOpened is a broken stream, not a zero balance', () => {
      expect(() => fold([deposited])).toThrow('FundsDeposited before AccountOpened');
    });

    it.each(['HoldPosted', 'HoldVoided', 'PostedHoldRefunded', 'VoidedHoldPosted'] as const)(
      '%s of a hold never placed is a broken stream',
      (type) => {
        const settled = {
          type,
          data: { holdId: 'tx-9', amount: 1, reason: 'resolved_by_support', at: AT },
        } as AccountEvent;
        expect(() => fold([opened, deposited, settled])).toThrow(`${type} of unknown hold tx-9`);
      },
    );
  });
});
