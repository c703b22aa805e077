import type { StoreHandle, StoreHarness } from '../../../test/support/store-handles';
import { storeHandles } from '../../../test/support/store-handles';
import { SeededRandom } from '../../shared/random';
import type { BudgetDecision, BudgetSettings, StatusCheckBudget } from './status-check-budget.port';

/**
 * The StatusCheckBudget contract: every adapter's spec calls describeStatusCheckBudgetContract
 * with a harness that opens its kind of store. The suite chooses every `now` itself, so minutes
 * of budget run without sleeping.
 */

export type BudgetStore = StatusCheckBudget & StoreHandle;

/** Epoch milliseconds in 2030: far from 0, so an adapter confusing times and durations fails. */
const T0 = 1_900_000_000_000;
/** Two checks a second: a grant makes the next one wait 500 ms. */
const BUDGET: BudgetSettings = { ratePerSecond: 2, minRatePerSecond: 0.25 };

function retryAtOf(decision: BudgetDecision): number {
  if (decision.granted) throw new Error('Expected the status check to be refused');
  return decision.retryAt;
}

/**
 * Asks for checks around a grant at `at` on `store` and returns how long the next one must wait,
 * checking that a poll a millisecond early is refused with the same retryAt.
 */
async function waitAfterGrant(store: StatusCheckBudget, at: number): Promise<number> {
  expect(await store.take(at, BUDGET)).toEqual({ granted: true });
  const retryAt = retryAtOf(await store.take(at, BUDGET));
  expect(retryAtOf(await store.take(retryAt - 1, BUDGET))).toBe(retryAt);
  return retryAt - at;
}

export function describeStatusCheckBudgetContract(
  adapterName: string,
  harness: StoreHarness<BudgetStore>,
): void {
  describe(`StatusCheckBudget contract: ${adapterName}`, () => {
    const handles = storeHandles(harness);
    let store: BudgetStore;

    beforeEach(() => {
      store = handles.store;
    });

    const openAnotherInstance = () => handles.openAnotherInstance();

    describe('take', () => {
      it('grants a check, then refuses with retryAt, the moment the next token is available', async () => {
        expect(await store.take(T0, BUDGET)).toEqual({ granted: true });

        expect(await store.take(T0, BUDGET)).toEqual({
          granted: false,
          retryAt: T0 + 500,
        });
        expect(await store.take(T0 + 499, BUDGET)).toEqual({
          granted: false,
          retryAt: T0 + 500,
        });
        expect(await store.take(T0 + 500, BUDGET)).toEqual({ granted: true });
        expect(retryAtOf(await store.take(T0 + 501, BUDGET))).toBe(T0 + 1_000);
      });

      it('holds one token at most: a long quiet spell allows one check, not a burst', async () => {
        expect(await store.take(T0, BUDGET)).toEqual({ granted: true });

        expect(await store.take(T0 + 60_000, BUDGET)).toEqual({ granted: true });
        expect(retryAtOf(await store.take(T0 + 60_000, BUDGET))).toBe(T0 + 60_500);
      });

      it('keeps the rate over a simulated minute of frequent polls from two instances', async () => {
        const instances = [store, await openAnotherInstance()];
        const random = new SeededRandom(20_250_101);
        const grants: { at: number; instance: number }[] = [];
        const wrongRetryAts: { at: number; retryAt: number }[] = [];

        for (let at = T0; at < T0 + 60_000; at += 1 + Math.floor(random.next() * 30)) {
          const instance = Math.floor(random.next() * instances.length);
          const decision = await instances[instance].take(at, BUDGET);
          if (decision.granted) {
            grants.push({ at, instance });
          } else if (decision.retryAt !== grants[grants.length - 1].at + 500) {
            wrongRetryAts.push({ at, retryAt: decision.retryAt });
          }
        }

        const times = grants.map((grant) => grant.at);
        // At most two grants in any [t, t + 1000): each is a second or more after the one two back.
        const crowded = times.filter((at, i) => i >= 2 && at - times[i - 2] < 1_000);
        const tooClose = times.filter((at, i) => i >= 1 && at - times[i - 1] < 500);
        expect({ crowded, tooClose, wrongRetryAts }).toEqual({
          crowded: [],
          tooClose: [],
          wrongRetryAts: [],
        });
        // 120 fit in the minute; polls every 15 ms on average miss each token by a few ms.
        expect(grants.length).toBeGreaterThanOrEqual(114);
        expect(grants.length).toBeLessThanOrEqual(120);
        expect(new Set(grants.map((grant) => grant.instance))).toEqual(new Set([0, 1]));
      });

      it('grants exactly one of the checks asked for at the same moment by two instances', async () => {
        const other = await openAnotherInstance();

        for (let round = 0; round < 20; round += 1) {
          const at = T0 + round * 500;
          const decisions = await Promise.all(
            [store, other, store, other].map((instance) => instance.take(at, BUDGET)),
          );
          expect(decisions.filter((decision) => decision.granted)).toHaveLength(1);
        }
      });
    });

    describe('slowDown and recover', () => {
      it('refuses every check on every instance until `until`, then allows one', async () => {
        const other = await openAnotherInstance();
        await store.slowDown(T0, T0 + 10_000, BUDGET);

        expect(await other.take(T0, BUDGET)).toEqual({
          granted: false,
          retryAt: T0 + 10_000,
        });
        expect(retryAtOf(await store.take(T0 + 9_999, BUDGET))).toBe(T0 + 10_000);

        expect(await other.take(T0 + 10_000, BUDGET)).toEqual({ granted: true });
        expect(await store.take(T0 + 10_000, BUDGET)).toMatchObject({ granted: false });
      });

      it('halves the rate after each pause, down to minRatePerSecond and no lower', async () => {
        const gaps: number[] = [];
        let at = T0;
        for (let pause = 0; pause < 5; pause += 1) {
          await store.slowDown(at, at + 10_000, BUDGET);
          at += 10_000;
          gaps.push(await waitAfterGrant(store, at));
        }

        // 2/s -> 1/s -> 0.5/s -> 0.25/s (the minimum) -> 0.25/s -> 0.25/s.
        expect(gaps).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
      });

      it('halves once per pause: 429s reported while paused only extend the pause', async () => {
        const other = await openAnotherInstance();
        await store.slowDown(T0, T0 + 5_000, BUDGET);

        await other.slowDown(T0 + 100, T0 + 6_000, BUDGET);
        await store.slowDown(T0 + 200, T0 + 5_500, BUDGET);

        expect(retryAtOf(await store.take(T0 + 5_999, BUDGET))).toBe(T0 + 6_000);
        expect(await waitAfterGrant(store, T0 + 6_000)).toBe(1_000);
      });

      it('recovers a tenth of the configured rate per successful check, up to that rate', async () => {
        const other = await openAnotherInstance();
        await store.slowDown(T0, T0 + 10_000, BUDGET);
        const gaps: number[] = [];
        let at = T0 + 10_000;

        for (let success = 0; success < 7; success += 1) {
          const instance = success % 2 === 0 ? store : other;
          expect(await instance.take(at, BUDGET)).toEqual({ granted: true });
          await instance.recover(at, BUDGET);
          const retryAt = retryAtOf(await store.take(at, BUDGET));
          expect(retryAtOf(await other.take(retryAt - 1, BUDGET))).toBe(retryAt);
          gaps.push(retryAt - at);
          at = retryAt;
        }

        // 1.2/s, 1.4/s, 1.6/s, 1.8/s, then the configured 2/s, where it stays.
        expect(gaps).toEqual([834, 715, 625, 556, 500, 500, 500]);
      });

      it('does not recover while paused: a check sent before the 429 does not end the pause', async () => {
        await store.slowDown(T0, T0 + 10_000, BUDGET);

        await store.recover(T0 + 1_000, BUDGET);

        expect(retryAtOf(await store.take(T0 + 1_000, BUDGET))).toBe(T0 + 10_000);
        expect(await waitAfterGrant(store, T0 + 10_000)).toBe(1_000);
      });
    });

    describe('state', () => {
      it('reads a budget never used as full, and creates nothing by reading', async () => {
        const other = await openAnotherInstance();
        expect(await store.state(T0, BUDGET)).toEqual({
          ratePerSecond: 2,
          tokens: 1,
          blockedUntil: null,
          nextCheckAt: T0,
        });

        // Had the read stored a full bucket at T0, a take a second earlier would be refused.
        expect(await other.take(T0 - 1_000, BUDGET)).toEqual({ granted: true });
      });

      it('shows the bucket refilling after a take and the moment take would grant, changing nothing', async () => {
        const other = await openAnotherInstance();
        expect(await store.take(T0, BUDGET)).toEqual({ granted: true });

        for (const at of [T0, T0 + 100, T0 + 250, T0 + 250, T0 + 499]) {
          const reading = await other.state(at, BUDGET);
          expect(reading).toEqual({
            ratePerSecond: 2,
            tokens: expect.any(Number),
            blockedUntil: null,
            nextCheckAt: T0 + 500,
          });
          expect(reading.tokens).toBeCloseTo(((at - T0) * 2) / 1_000, 9);
        }
        expect(retryAtOf(await store.take(T0 + 499, BUDGET))).toBe(T0 + 500);
        expect(await store.state(T0 + 500, BUDGET)).toEqual({
          ratePerSecond: 2,
          tokens: 1,
          blockedUntil: null,
          nextCheckAt: T0 + 500,
        });
        expect(await store.take(T0 + 500, BUDGET)).toEqual({ granted: true });
      });

      it('shows a slowDown on every instance: blocked, no token, the halved rate; then one token', async () => {
        const other = await openAnotherInstance();
        await store.slowDown(T0, T0 + 10_000, BUDGET);

        expect(await other.state(T0 + 1_000, BUDGET)).toEqual({
          ratePerSecond: 1,
          tokens: 0,
          blockedUntil: T0 + 10_000,
          nextCheckAt: T0 + 10_000,
        });
        expect(await other.state(T0 + 10_000, BUDGET)).toEqual({
          ratePerSecond: 1,
          tokens: 1,
          blockedUntil: null,
          nextCheckAt: T0 + 10_000,
        });
        expect(await waitAfterGrant(store, T0 + 10_000)).toBe(1_000);
      });

      it('shows the rate recovering with successful checks', async () => {
        await store.slowDown(T0, T0 + 10_000, BUDGET);
        expect(await store.take(T0 + 10_000, BUDGET)).toEqual({ granted: true });
        await store.recover(T0 + 10_000, BUDGET);

        const reading = await store.state(T0 + 10_000, BUDGET);
        expect(reading).toMatchObject({ tokens: 0, blockedUntil: null, nextCheckAt: T0 + 10_834 });
        expect(reading.ratePerSecond).toBeCloseTo(1.2, 9);
      });
    });

    describe('durability', () => {
      it('keeps the budget across close and reopen', async () => {
        expect(await store.take(T0 + 20, BUDGET)).toEqual({ granted: true });
        await store.slowDown(T0 + 30, T0 + 5_000, BUDGET);

        store = await handles.restart();

        expect(retryAtOf(await store.take(T0 + 4_000, BUDGET))).toBe(T0 + 5_000);
        expect(await waitAfterGrant(store, T0 + 5_000)).toBe(1_000);
      });

      it('answers ping while open and rejects it once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();

        await handles.close(store);

        await expect(store.ping()).rejects.toThrow();
        await expect(store.state(T0, BUDGET)).rejects.toThrow();
      });
    });
  });
}
