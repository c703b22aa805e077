import { RateLimitCounters } from './rate-limit-counters.port';

/**
 * The RateLimitCounters contract: every adapter's spec calls describeRateLimitCountersContract
 * with a harness that opens its kind of store. Windows are named by times the suite chooses, so
 * no test waits for one to pass.
 */

/** One store opened by a harness. */
export interface OpenedRateLimitCounters {
  counters: RateLimitCounters;
  /** Another handle on the same underlying store, as a second service instance holds it. */
  openAnotherHandle(): Promise<RateLimitCounters>;
  /** Closes every handle and releases the storage. */
  dispose(): Promise<void>;
}

export interface RateLimitCountersHarness {
  openEmpty(): Promise<OpenedRateLimitCounters>;
}

const WINDOW_MS = 60_000;
/** A window start in 2030: far from 0, so an adapter confusing times and durations fails. */
const W0 = 1_900_000_020_000;
const W1 = W0 + WINDOW_MS;
/** Far above any count here: only the callers added are answered. */
const NOBODY = 1_000_000;

const totalsOf = (entries: [string, number][]) => new Map(entries);

export function describeRateLimitCountersContract(
  adapterName: string,
  harness: RateLimitCountersHarness,
): void {
  describe(`RateLimitCounters contract: ${adapterName}`, () => {
    let opened: OpenedRateLimitCounters;
    let counters: RateLimitCounters;

    beforeEach(async () => {
      opened = await harness.openEmpty();
      counters = opened.counters;
    });

    afterEach(async () => {
      await opened.dispose();
    });

    it('adds each delta to its caller’s total in the window and answers the totals', async () => {
      expect(
        await counters.add(
          W0,
          WINDOW_MS,
          [
            { caller: 'principal:alice', count: 3 },
            { caller: 'address:10.0.0.1', count: 1 },
          ],
          NOBODY,
        ),
      ).toEqual(
        totalsOf([
          ['principal:alice', 3],
          ['address:10.0.0.1', 1],
        ]),
      );
      expect(
        await counters.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 2 }], NOBODY),
      ).toEqual(totalsOf([['principal:alice', 5]]));
    });

    it('sums what every instance adds, and each learns the total', async () => {
      const other = await opened.openAnotherHandle();
      await counters.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 4 }], NOBODY);
      expect(
        await other.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 1 }], NOBODY),
      ).toEqual(totalsOf([['principal:alice', 5]]));
      expect(
        await counters.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 1 }], NOBODY),
      ).toEqual(totalsOf([['principal:alice', 6]]));
    });

    it('answers the callers at or above `atLeast` that another instance counted, and no others', async () => {
      const other = await opened.openAnotherHandle();
      await other.add(
        W0,
        WINDOW_MS,
        [
          { caller: 'principal:spent', count: 10 },
          { caller: 'principal:at-the-line', count: 5 },
          { caller: 'principal:quiet', count: 4 },
        ],
        NOBODY,
      );
      expect(await counters.add(W0, WINDOW_MS, [], 5)).toEqual(
        totalsOf([
          ['principal:spent', 10],
          ['principal:at-the-line', 5],
        ]),
      );
      expect(
        await counters.add(W0, WINDOW_MS, [{ caller: 'principal:quiet', count: 1 }], 6),
      ).toEqual(
        totalsOf([
          ['principal:quiet', 5],
          ['principal:spent', 10],
        ]),
      );
    });

    it('counts every window on its own: a new window starts from nothing', async () => {
      await counters.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 7 }], NOBODY);
      expect(
        await counters.add(W1, WINDOW_MS, [{ caller: 'principal:alice', count: 1 }], NOBODY),
      ).toEqual(totalsOf([['principal:alice', 1]]));
      expect(await counters.add(W1, WINDOW_MS, [], 1)).toEqual(totalsOf([['principal:alice', 1]]));
    });

    it('loses no increment when instances add at once', async () => {
      const handles = [
        counters,
        await opened.openAnotherHandle(),
        await opened.openAnotherHandle(),
      ];
      const adds = handles.flatMap((handle) =>
        Array.from({ length: 20 }, () =>
          handle.add(W0, WINDOW_MS, [{ caller: 'principal:busy', count: 1 }], NOBODY),
        ),
      );
      const answers = await Promise.all(adds);
      const seen = answers.map((totals) => totals.get('principal:busy')).sort((a, b) => a! - b!);
      // Every add saw a total that includes itself, and the last one saw them all.
      expect(seen.at(-1)).toBe(60);
      expect(await counters.add(W0, WINDOW_MS, [], 60)).toEqual(totalsOf([['principal:busy', 60]]));
    });

    it('takes a sync of many callers at once', async () => {
      const deltas = Array.from({ length: 2_500 }, (_, i) => ({
        caller: `address:${i}`,
        count: i + 1,
      }));
      const totals = await counters.add(W0, WINDOW_MS, deltas, NOBODY);
      expect(totals.size).toBe(2_500);
      expect(totals.get('address:0')).toBe(1);
      expect(totals.get('address:2499')).toBe(2_500);
      expect(await counters.add(W0, WINDOW_MS, [], 2_500)).toEqual(
        totalsOf([['address:2499', 2_500]]),
      );
    });
  });
}
