import {
  BudgetState,
  fullBudget,
  readBudget,
  recoverBudget,
  recoverStep,
  refill,
  slowDownBudget,
  slowDownStep,
  stateStep,
  takeStep,
  takeToken,
  tokenAvailableAt,
} from './status-check-budget';

const settings = { ratePerSecond: 2, minRatePerSecond: 0.25 };
const T0 = 1_000_000;
const budget = (change: Partial<BudgetState> = {}): BudgetState => ({
  tokens: 1,
  updatedAt: T0,
  rate: 2,
  blockedUntil: 0,
  ...change,
});

describe('status-check budget', () => {
  describe('taking a token', () => {
    it('given a full budget, when a check asks, then it is granted and the token is spent', () => {
      expect(takeToken(fullBudget(T0, settings), T0, settings)).toEqual({
        decision: { granted: true },
        next: { tokens: 0, updatedAt: T0, rate: 2, blockedUntil: 0 },
      });
    });

    it('given a token spent at 2/s, then the next check waits 500 ms and storing nothing meanwhile', () => {
      const spent = budget({ tokens: 0 });
      expect(takeToken(spent, T0 + 499, settings)).toEqual({
        decision: { granted: false, retryAt: T0 + 500 },
      });
      expect(takeToken(spent, T0 + 500, settings)).toEqual({
        decision: { granted: true },
        next: { tokens: 0, updatedAt: T0 + 500, rate: 2, blockedUntil: 0 },
      });
    });

    it('given a ban, then every check is refused until it ends, and the first one then is granted', () => {
      const banned = budget({ tokens: 1, updatedAt: T0 + 30_000, blockedUntil: T0 + 30_000 });
      expect(takeToken(banned, T0 + 29_999, settings)).toEqual({
        decision: { granted: false, retryAt: T0 + 30_000 },
      });
      expect(takeToken(banned, T0 + 30_000, settings).decision).toEqual({ granted: true });
    });

    it('given a rate recovered with float noise, then the next token is due on the whole millisecond', () => {
      // Five recoveries from 1/s by 0.2 give 1.9999999999999998/s: 500.00000000000006 ms a token.
      let state: BudgetState = { tokens: 1, updatedAt: 0, rate: 1, blockedUntil: 0 };
      for (let step = 0; step < 5; step++) state = recoverBudget(state, 0, settings)!;
      expect(state.rate).toBeLessThan(2);
      const { next } = takeToken(state, 0, settings);
      expect(takeToken(next!, 499, settings).decision).toEqual({ granted: false, retryAt: 500 });
      expect(takeToken(next!, 500, settings).decision).toEqual({ granted: true });
    });
  });

  describe('refilling', () => {
    it('refills at the rate, up to one token', () => {
      expect(refill(budget({ tokens: 0 }), T0 + 250, settings)).toEqual(
        budget({ tokens: 0.5, updatedAt: T0 + 250 }),
      );
      expect(refill(budget({ tokens: 0.5 }), T0 + 10_000, settings)).toEqual(
        budget({ tokens: 1, updatedAt: T0 + 10_000 }),
      );
    });

    it('given a clock behind the stored time, then the bucket time never runs backwards', () => {
      expect(refill(budget({ tokens: 0.25 }), T0 - 5_000, settings)).toEqual(
        budget({ tokens: 0.25 }),
      );
    });

    it('keeps a stored rate within the configured bounds', () => {
      expect(refill(budget({ rate: 8 }), T0, settings).rate).toBe(2);
      expect(refill(budget({ rate: 0.01 }), T0, settings).rate).toBe(0.25);
    });

    it('a token is available once the missing share has refilled', () => {
      expect(tokenAvailableAt(budget({ tokens: 0.25, rate: 0.5 }))).toBe(T0 + 1_500);
    });
  });

  describe('a 429', () => {
    it('halves the rate and blocks until Retry-After, with one token ready then', () => {
      expect(slowDownBudget(budget({ tokens: 0 }), T0, T0 + 20_000, settings)).toEqual({
        tokens: 1,
        updatedAt: T0 + 20_000,
        rate: 1,
        blockedUntil: T0 + 20_000,
      });
    });

    it('given a ban already on, then a report of the same ban only extends it', () => {
      const banned = slowDownBudget(budget(), T0, T0 + 20_000, settings);
      expect(slowDownBudget(banned, T0 + 1_000, T0 + 25_000, settings)).toEqual({
        tokens: 1,
        updatedAt: T0 + 25_000,
        rate: 1,
        blockedUntil: T0 + 25_000,
      });
      expect(slowDownBudget(banned, T0 + 1_000, T0 + 5_000, settings).blockedUntil).toBe(
        T0 + 20_000,
      );
    });

    it('given a ban that has just ended, then a new 429 is a new ban and halves the rate again', () => {
      const banned = slowDownBudget(budget(), T0, T0 + 20_000, settings);
      expect(slowDownBudget(banned, T0 + 20_000, T0 + 40_000, settings)).toMatchObject({
        rate: 0.5,
        blockedUntil: T0 + 40_000,
      });
    });

    it('never slows below the minimum rate', () => {
      expect(slowDownBudget(budget({ rate: 0.3 }), T0, T0 + 1_000, settings).rate).toBe(0.25);
    });
  });

  describe('recovering', () => {
    it('each successful check gives back a tenth of the configured rate, up to it', () => {
      expect(recoverBudget(budget({ rate: 1 }), T0, settings)).toEqual(budget({ rate: 1.2 }));
      expect(recoverBudget(budget({ rate: 1.9 }), T0, settings)).toEqual(budget({ rate: 2 }));
    });

    it('changes nothing at the configured rate, nor while a ban is on', () => {
      expect(recoverBudget(budget(), T0, settings)).toBeNull();
      expect(recoverBudget(budget({ rate: 1, blockedUntil: T0 + 1 }), T0, settings)).toBeNull();
    });
  });

  describe('reading', () => {
    it('given a spent token, then the reading shows the refill so far and when take grants', () => {
      expect(readBudget(budget({ tokens: 0 }), T0 + 100, settings)).toEqual({
        ratePerSecond: 2,
        tokens: 0.2,
        blockedUntil: null,
        nextCheckAt: T0 + 500,
      });
    });

    it('given a ban, then no token is there for anyone until it ends', () => {
      const banned = slowDownBudget(budget(), T0, T0 + 20_000, settings);
      expect(readBudget(banned, T0 + 1_000, settings)).toEqual({
        ratePerSecond: 1,
        tokens: 0,
        blockedUntil: T0 + 20_000,
        nextCheckAt: T0 + 20_000,
      });
      expect(readBudget(banned, T0 + 20_000, settings)).toMatchObject({
        tokens: 1,
        blockedUntil: null,
      });
    });

    it('given a clock behind the stored time, then the next check is no sooner than take allows', () => {
      const spent = budget({ tokens: 0 });
      expect(readBudget(spent, T0 - 5_000, settings).nextCheckAt).toBe(T0 + 500);
      expect(takeToken(spent, T0 + 499, settings).decision).toEqual({
        granted: false,
        retryAt: T0 + 500,
      });
    });
  });

  describe('the operations the adapters run on the stored state', () => {
    it('given no stored state, then a take starts from a full budget and is granted', () => {
      expect(takeStep(T0, settings)(undefined)).toEqual({
        result: { granted: true },
        next: { tokens: 0, updatedAt: T0, rate: 2, blockedUntil: 0 },
      });
    });

    it('given a spent token, then a take is refused and stores nothing', () => {
      expect(takeStep(T0 + 100, settings)(budget({ tokens: 0 }))).toEqual({
        result: { granted: false, retryAt: T0 + 500 },
      });
    });

    it('given no stored state, then a 429 slows a full budget down', () => {
      expect(slowDownStep(T0, T0 + 3_000, settings)(undefined)).toEqual({
        result: undefined,
        next: { tokens: 1, updatedAt: T0 + 3_000, rate: 1, blockedUntil: T0 + 3_000 },
      });
    });

    it('given a stored state, then a 429 slows it down', () => {
      expect(slowDownStep(T0, T0 + 3_000, settings)(budget({ rate: 1 })).next).toEqual({
        tokens: 1,
        updatedAt: T0 + 3_000,
        rate: 0.5,
        blockedUntil: T0 + 3_000,
      });
    });

    it('given no stored state, then a recovery stores nothing; given a slowed one, it raises the rate', () => {
      expect(recoverStep(T0, settings)(undefined)).toEqual({ result: undefined });
      expect(recoverStep(T0, settings)(budget({ rate: 1 }))).toEqual({
        result: undefined,
        next: { tokens: 1, updatedAt: T0, rate: 1.2, blockedUntil: 0 },
      });
    });

    it('given no stored state, then a reading shows a full budget and stores nothing', () => {
      expect(stateStep(T0, settings)(undefined)).toEqual({
        result: { ratePerSecond: 2, tokens: 1, blockedUntil: null, nextCheckAt: T0 },
      });
    });

    it('refuses a time that is not whole epoch milliseconds, or bad settings, when made', () => {
      const bad = { ratePerSecond: 1, minRatePerSecond: 2 };
      expect(() => takeStep(T0 + 0.5, settings)).toThrow(/^now must be/);
      expect(() => takeStep(T0, bad)).toThrow(RangeError);
      expect(() => slowDownStep(T0 + 0.5, T0, settings)).toThrow(/^now must be/);
      expect(() => slowDownStep(T0, T0 + 0.5, settings)).toThrow(/^until must be/);
      expect(() => slowDownStep(T0, T0, bad)).toThrow(RangeError);
      expect(() => recoverStep(T0 + 0.5, settings)).toThrow(/^now must be/);
      expect(() => recoverStep(T0, bad)).toThrow(RangeError);
      expect(() => stateStep(T0 + 0.5, settings)).toThrow(/^now must be/);
      expect(() => stateStep(T0, bad)).toThrow(RangeError);
    });
  });
});
