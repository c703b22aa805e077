import { SlidingSecondCounter, StatusCheckBudget } from './status-budget';

describe('SlidingSecondCounter', () => {
  it('counts the events of the last second, the one that ends now included', () => {
    const counter = new SlidingSecondCounter();
    expect([0, 0.5, 0.99].map((t) => counter.add(t))).toEqual([1, 2, 3]);
    expect(counter.add(1)).toBe(3); // the event at 0 is exactly one second old: out
    expect(counter.add(1.5)).toBe(3); // and so is the one at 0.5
    expect(counter.add(5)).toBe(1);
  });
});

describe('StatusCheckBudget', () => {
  it('bans the caller that exceeds the budget, refuses it until the ban ends, then starts afresh', () => {
    const budget = new StatusCheckBudget({ requestsPerSecond: 2, banSeconds: 10 });
    expect(budget.decide('a', 0)).toEqual({ admitted: true });
    expect(budget.decide('a', 0.1)).toEqual({ admitted: true });
    expect(budget.decide('a', 0.2)).toEqual({
      admitted: false,
      retryAfterSeconds: 10,
      banStarted: true,
    });
    expect(budget.decide('b', 0.3)).toEqual({ admitted: true });
    expect(budget.decide('a', 5.2)).toEqual({
      admitted: false,
      retryAfterSeconds: 5,
      banStarted: false,
    });
    expect(budget.decide('a', 9.7)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    expect(budget.decide('a', 10.2)).toEqual({ admitted: true });
    expect(budget.decide('a', 10.3)).toEqual({ admitted: true });
  });

  it('forgets the checks before a ban, so a caller is admitted right after a short ban', () => {
    const budget = new StatusCheckBudget({ requestsPerSecond: 2, banSeconds: 0.5 });
    budget.decide('a', 0);
    budget.decide('a', 0.1);
    expect(budget.decide('a', 0.2)).toMatchObject({ admitted: false, banStarted: true });
    expect(budget.decide('a', 0.8)).toEqual({ admitted: true });
  });

  it('rounds Retry-After up to whole seconds, without float noise adding one', () => {
    const fractional = new StatusCheckBudget({ requestsPerSecond: 1, banSeconds: 2.5 });
    fractional.decide('a', 0.1);
    expect(fractional.decide('a', 0.2)).toMatchObject({ retryAfterSeconds: 3 });
    const whole = new StatusCheckBudget({ requestsPerSecond: 1, banSeconds: 60 });
    whole.decide('a', 0.1);
    whole.decide('a', 0.3);
    expect(whole.decide('a', 0.3)).toMatchObject({ retryAfterSeconds: 60, banStarted: false });
  });
});
