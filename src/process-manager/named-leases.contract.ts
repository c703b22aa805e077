import type { StoreHandle, StoreHarness } from '../../test/support/store-handles';
import { storeHandles } from '../../test/support/store-handles';
import type { NamedLeases } from './named-leases.port';

/**
 * The NamedLeases contract: every adapter's spec calls describeNamedLeasesContract with a harness
 * that opens its kind of store. The suite chooses every `now` itself, so leases run without
 * sleeping.
 */

export type LeaseStore = NamedLeases & StoreHandle;

/** Epoch milliseconds in 2030: far from 0, so an adapter confusing times and durations fails. */
const T0 = 1_900_000_000_000;
const LEASE_MS = 30_000;

export function describeNamedLeasesContract(
  adapterName: string,
  harness: StoreHarness<LeaseStore>,
): void {
  describe(`NamedLeases contract: ${adapterName}`, () => {
    const handles = storeHandles(harness);
    let store: LeaseStore;

    beforeEach(() => {
      store = handles.store;
    });

    const openAnotherInstance = () => handles.openAnotherInstance();

    describe('named leases', () => {
      it('gives a free lease to one owner; another owner gets it only once it has run out', async () => {
        const other = await openAnotherInstance();

        expect(await store.acquire('planner', 'A', T0, LEASE_MS)).toBe(true);
        expect(await other.acquire('planner', 'B', T0 + 1, LEASE_MS)).toBe(false);
        expect(await other.acquire('planner', 'B', T0 + LEASE_MS - 1, LEASE_MS)).toBe(false);

        expect(await other.acquire('planner', 'B', T0 + LEASE_MS, LEASE_MS)).toBe(true);
        expect(await store.acquire('planner', 'A', T0 + LEASE_MS + 1, LEASE_MS)).toBe(false);
      });

      it('renews for the holder, pushing the expiry out', async () => {
        expect(await store.acquire('planner', 'A', T0, LEASE_MS)).toBe(true);
        expect(await store.acquire('planner', 'A', T0 + 20_000, LEASE_MS)).toBe(true);

        expect(await store.acquire('planner', 'B', T0 + LEASE_MS, LEASE_MS)).toBe(false);
        expect(await store.acquire('planner', 'B', T0 + 20_000 + LEASE_MS, LEASE_MS)).toBe(true);
      });

      it('keeps leases of different names apart', async () => {
        expect(await store.acquire('planner', 'A', T0, LEASE_MS)).toBe(true);
        expect(await store.acquire('other-job', 'B', T0, LEASE_MS)).toBe(true);
      });

      it('frees the lease on release by its holder only', async () => {
        expect(await store.acquire('planner', 'A', T0, LEASE_MS)).toBe(true);

        await store.release('planner', 'B');
        expect(await store.acquire('planner', 'B', T0 + 1, LEASE_MS)).toBe(false);

        await store.release('planner', 'A');
        expect(await store.acquire('planner', 'B', T0 + 1, LEASE_MS)).toBe(true);
      });

      it('gives a free lease to exactly one of many instances asking at once', async () => {
        const handles = [store, await openAnotherInstance(), await openAnotherInstance()];

        const won = await Promise.all(
          handles.flatMap((handle, h) =>
            [0, 1, 2].map((n) => handle.acquire('planner', `owner-${h}-${n}`, T0, LEASE_MS)),
          ),
        );

        expect(won.filter(Boolean)).toHaveLength(1);
      });

      it('rejects a lease that is not a positive integer', async () => {
        await expect(store.acquire('planner', 'A', T0, 0)).rejects.toThrow(RangeError);
      });
    });
  });
}
