import { legsOf } from './account-legs';
import type { AccountEvent } from './account.events';
import { evolve, initialState } from './account.state';
import type { OpenAccount } from './account.state';

const AT = '2026-12-05T10:00:00.000Z';

const EVENTS: AccountEvent[] = [
  { type: 'AccountOpened', data: { owner: 'alice', currency: 'KES', openedAt: AT } },
  { type: 'FundsDeposited', data: { depositId: 'd1', amount: 1000, reference: 'wire', at: AT } },
  { type: 'OverdraftLimitSet', data: { changeId: 'c1', limit: 50, at: AT } },
  { type: 'FundsHeld', data: { holdId: 'h1', amount: 300, expiresAt: AT, at: AT } },
  { type: 'FundsHeld', data: { holdId: 'h2', amount: 200, expiresAt: AT, at: AT } },
  {
    type: 'HoldRefused',
    data: { holdId: 'h3', amount: 900, reason: 'insufficient_funds', available: 550, at: AT },
  },
  { type: 'HoldPosted', data: { holdId: 'h1', amount: 300, at: AT } },
  { type: 'HoldVoided', data: { holdId: 'h2', amount: 200, reason: 'transaction_failed', at: AT } },
  {
    type: 'PostedHoldRefunded',
    data: { holdId: 'h1', amount: 300, reason: 'resolved_by_support', at: AT },
  },
  {
    type: 'VoidedHoldPosted',
    data: { holdId: 'h2', amount: 200, reason: 'resolved_by_support', at: AT },
  },
];

describe('legsOf', () => {
  it.each(EVENTS.map((event) => [event.type, event] as const))(
    '%s: the legs sum to zero, posted and pending separately',
    (_type, event) => {
      const legs = legsOf(event);
      expect(legs.reduce((sum, leg) => sum + leg.posted, 0)).toBe(0);
      expect(legs.reduce((sum, leg) => sum + leg.pending, 0)).toBe(0);
    },
  );

  it('moves no money for an opening, an overdraft change or a refusal', () => {
    const quiet = EVENTS.filter((event) => legsOf(event).length === 0).map((event) => event.type);
    expect(quiet).toEqual(['AccountOpened', 'OverdraftLimitSet', 'HoldRefused']);
  });

  it('names the other side of each transfer: funding for deposits, provider clearing for holds', () => {
    const others = EVENTS.flatMap((event) =>
      legsOf(event)
        .filter((leg) => leg.account !== 'customer')
        .map((leg) => `${event.type}:${leg.account}`),
    );
    expect(others).toEqual([
      'FundsDeposited:funding',
      'FundsHeld:clearing',
      'FundsHeld:clearing',
      'HoldPosted:clearing',
      'HoldVoided:clearing',
      'PostedHoldRefunded:clearing',
      'VoidedHoldPosted:clearing',
    ]);
  });

  it("agrees with the account's own fold after every event: customer legs are its balances", () => {
    let state = initialState;
    let posted = 0;
    let pendingLegs = 0;
    for (const event of EVENTS) {
      state = evolve(state, event);
      for (const leg of legsOf(event).filter((each) => each.account === 'customer')) {
        posted += leg.posted;
        pendingLegs += leg.pending;
      }
      const account = state as OpenAccount;
      expect({ posted: account.posted, pending: account.pending }).toEqual({
        posted,
        pending: 0 - pendingLegs,
      });
    }
  });
});
