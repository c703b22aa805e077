import {
  BudgetDecision,
  BudgetSettings,
  ClaimedWork,
  PlannedBatch,
  StaleCheckpointError,
  WorkItem,
  WorkKind,
  WorkStore,
} from './work-store.port';
import { SeededRandom } from '../shared/random';

/**
 * The WorkStore contract: every adapter's spec calls describeWorkStoreContract with a harness
 * that opens its kind of store. The suite speaks only through the port, with `now` values it
 * chooses itself, so hours of leases and budget run without sleeping.
 */

/** One store opened by a harness. */
export interface OpenedWorkStore {
  store: WorkStore;
  /**
   * Opens another handle on the same underlying store: a second service instance while `store`
   * is open, or the same instance after a restart once the suite has closed `store`.
   */
  openAnotherHandle(): Promise<WorkStore>;
  /** Releases the underlying storage; called after the suite has closed every handle. */
  dispose(): Promise<void>;
}

export interface WorkStoreHarness {
  /** Opens a new, empty store. */
  openEmpty(): Promise<OpenedWorkStore>;
}

/** Epoch milliseconds in 2030: far from 0, so an adapter confusing times and durations fails. */
const T0 = 1_900_000_000_000;
const LEASE_MS = 30_000;
/** Two checks a second: a grant makes the next one wait 500 ms. */
const BUDGET: BudgetSettings = { ratePerSecond: 2, minRatePerSecond: 0.25 };
/** Beyond 2^53: a checkpoint that went through a JS number would come back different. */
const BEYOND_SAFE_INTEGER = 2n ** 53n + 5n;

function work(
  transactionId: string,
  kind: WorkKind,
  dueAt: number,
  payload: Record<string, unknown> = {},
): WorkItem {
  return { transactionId, kind, dueAt, payload };
}

const batch = (firstPosition: bigint, checkpoint: bigint): PlannedBatch => ({
  firstPosition,
  checkpoint,
});

const keys = (items: WorkItem[]) => items.map((item) => `${item.transactionId}/${item.kind}`);

function retryAtOf(decision: BudgetDecision): number {
  if (decision.granted) throw new Error('Expected the status check to be refused');
  return decision.retryAt;
}

/**
 * Asks for checks around a grant at `at` on `store` and returns how long the next one must wait,
 * checking that a poll a millisecond early is refused with the same retryAt.
 */
async function waitAfterGrant(store: WorkStore, at: number): Promise<number> {
  expect(await store.takeStatusCheck(at, BUDGET)).toEqual({ granted: true });
  const retryAt = retryAtOf(await store.takeStatusCheck(at, BUDGET));
  expect(retryAtOf(await store.takeStatusCheck(retryAt - 1, BUDGET))).toBe(retryAt);
  return retryAt - at;
}

export function describeWorkStoreContract(adapterName: string, harness: WorkStoreHarness): void {
  describe(`WorkStore contract: ${adapterName}`, () => {
    let opened: OpenedWorkStore;
    let store: WorkStore;
    let openHandles: WorkStore[];
    let lastPosition: bigint;

    beforeEach(async () => {
      opened = await harness.openEmpty();
      store = opened.store;
      openHandles = [store];
      lastPosition = 0n;
    });

    afterEach(async () => {
      await Promise.all(openHandles.map((handle) => handle.close()));
      await opened.dispose();
    });

    /** Another service instance on the same store (the suite closes it after the test). */
    async function openAnotherInstance(): Promise<WorkStore> {
      const handle = await opened.openAnotherHandle();
      openHandles.push(handle);
      return handle;
    }

    async function close(handle: WorkStore): Promise<void> {
      openHandles = openHandles.filter((open) => open !== handle);
      await handle.close();
    }

    /** Closes `store` and opens it again, as a restart of the instance would. */
    async function restart(): Promise<void> {
      await close(store);
      store = await openAnotherInstance();
    }

    /** The next one-event batch of `$all`. */
    function nextBatch(): PlannedBatch {
      lastPosition += 1n;
      return { firstPosition: lastPosition, checkpoint: lastPosition };
    }

    async function schedule(...items: WorkItem[]): Promise<void> {
      await store.commit({ schedule: items, cancel: [] }, nextBatch());
    }

    async function cancel(transactionId: string, ...kinds: WorkKind[]): Promise<void> {
      await store.commit({ schedule: [], cancel: [{ transactionId, kinds }] }, nextBatch());
    }

    /** Claims the one item due at `now` for `owner`, failing unless there is exactly one. */
    async function claimOnly(owner: string, now: number, on = store): Promise<ClaimedWork> {
      const claimed = await on.claimDue(owner, now, LEASE_MS, 10);
      expect(claimed).toHaveLength(1);
      return claimed[0];
    }

    describe('checkpoint and commit', () => {
      it('has no checkpoint when empty', async () => {
        expect(await store.checkpoint()).toBeNull();
      });

      it('sets the checkpoint on every commit, even an empty one, beyond 2^53 too', async () => {
        await store.commit({ schedule: [], cancel: [] }, batch(1n, 7n));
        expect(await store.checkpoint()).toBe(7n);

        await store.commit({ schedule: [], cancel: [] }, batch(8n, BEYOND_SAFE_INTEGER));

        expect(await store.checkpoint()).toBe(BEYOND_SAFE_INTEGER);
        expect(await (await openAnotherInstance()).checkpoint()).toBe(BEYOND_SAFE_INTEGER);
      });

      it('stores scheduled work with its payload; pending lists it by dueAt', async () => {
        const payload = { attempt: 2, note: 'Zoë 💸', nested: { list: [1, 'two', null] } };
        await schedule(work('tx-1', 'deadline', T0 + 900), work('tx-1', 'submit', T0, payload));

        expect(await store.pending('tx-1')).toEqual([
          work('tx-1', 'submit', T0, payload),
          work('tx-1', 'deadline', T0 + 900),
        ]);
        expect(await store.pending('tx-unknown')).toEqual([]);
      });

      it('replaces the plan of the same transaction and kind: dueAt and payload of the newer one', async () => {
        await schedule(work('tx-1', 'check', T0 + 100, { check: 1, extra: 'x' }));
        await schedule(work('tx-1', 'check', T0 + 900, { check: 2 }), work('tx-2', 'check', T0));

        expect(await store.pending('tx-1')).toEqual([
          work('tx-1', 'check', T0 + 900, { check: 2 }),
        ]);
        expect(await store.pending('tx-2')).toEqual([work('tx-2', 'check', T0)]);
      });

      it('cancels the given kinds of one transaction and nothing else', async () => {
        await schedule(
          work('tx-1', 'check', T0),
          work('tx-1', 'deadline', T0 + 1),
          work('tx-1', 'notify', T0 + 2),
          work('tx-2', 'check', T0),
        );

        await cancel('tx-1', 'check', 'notify', 'submit');

        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'deadline', T0 + 1)]);
        expect(await store.pending('tx-2')).toEqual([work('tx-2', 'check', T0)]);
      });

      it('applies cancels before schedules: a batch that cancels and plans a kind keeps the plan', async () => {
        await schedule(work('tx-1', 'check', T0));

        await store.commit(
          {
            schedule: [work('tx-1', 'check', T0 + 700, { check: 2 })],
            cancel: [{ transactionId: 'tx-1', kinds: ['check'] }],
          },
          nextBatch(),
        );

        expect(await store.pending('tx-1')).toEqual([
          work('tx-1', 'check', T0 + 700, { check: 2 }),
        ]);
      });

      it('lands nothing, not even the checkpoint, when a commit fails part-way', async () => {
        await store.commit({ schedule: [work('tx-1', 'check', T0)], cancel: [] }, batch(1n, 1n));
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;

        await expect(
          store.commit(
            {
              schedule: [work('tx-2', 'check', T0), work('tx-3', 'check', T0, cyclic)],
              cancel: [{ transactionId: 'tx-1', kinds: ['check'] }],
            },
            batch(2n, 2n),
          ),
        ).rejects.toThrow();

        expect(await store.checkpoint()).toBe(1n);
        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0)]);
        expect(await store.pending('tx-2')).toEqual([]);
        expect(await store.pending('tx-3')).toEqual([]);
      });

      it('rejects a dueAt that is not whole epoch milliseconds', async () => {
        await expect(schedule(work('tx-1', 'check', T0 + 0.5))).rejects.toThrow(RangeError);
        expect(await store.pending('tx-1')).toEqual([]);
      });

      it('refuses, writing nothing, a batch whose events the store has already applied', async () => {
        await store.commit({ schedule: [work('tx-1', 'check', T0)], cancel: [] }, batch(1n, 10n));
        const other = await openAnotherInstance();

        for (const [firstPosition, checkpoint] of [
          [10n, 12n],
          [5n, 12n],
          [1n, 10n],
        ]) {
          const stale = other.commit(
            {
              schedule: [work('tx-2', 'check', T0)],
              cancel: [{ transactionId: 'tx-1', kinds: ['check'] }],
            },
            batch(firstPosition, checkpoint),
          );
          await expect(stale).rejects.toBeInstanceOf(StaleCheckpointError);
          await expect(stale).rejects.toMatchObject({ stored: 10n, firstPosition });
        }

        expect(await store.checkpoint()).toBe(10n);
        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0)]);
        expect(await store.pending('tx-2')).toEqual([]);
      });

      it('accepts the batch right after the checkpoint, and any later one, beyond 2^53 too', async () => {
        await store.commit({ schedule: [], cancel: [] }, batch(1n, 10n));
        await store.commit({ schedule: [], cancel: [] }, batch(11n, 11n));
        await store.commit(
          { schedule: [], cancel: [] },
          batch(BEYOND_SAFE_INTEGER, BEYOND_SAFE_INTEGER + 3n),
        );

        expect(await store.checkpoint()).toBe(BEYOND_SAFE_INTEGER + 3n);
        await expect(
          store.commit(
            { schedule: [], cancel: [] },
            batch(BEYOND_SAFE_INTEGER + 3n, BEYOND_SAFE_INTEGER + 4n),
          ),
        ).rejects.toBeInstanceOf(StaleCheckpointError);
      });

      it('lets exactly one of two planners racing with the same batch apply it', async () => {
        const other = await openAnotherInstance();
        const change = (transactionId: string) => ({
          schedule: [work(transactionId, 'check', T0)],
          cancel: [],
        });

        const results = await Promise.allSettled([
          store.commit(change('tx-a'), batch(1n, 5n)),
          other.commit(change('tx-b'), batch(1n, 5n)),
        ]);

        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        const [failure] = results.filter((result) => result.status === 'rejected');
        expect(failure.reason).toBeInstanceOf(StaleCheckpointError);
        const planned = [...(await store.pending('tx-a')), ...(await store.pending('tx-b'))];
        expect(planned).toHaveLength(1);
      });
    });

    describe('named leases', () => {
      it('gives a free lease to one owner; another owner gets it only once it has run out', async () => {
        const other = await openAnotherInstance();

        expect(await store.acquireLease('planner', 'A', T0, LEASE_MS)).toBe(true);
        expect(await other.acquireLease('planner', 'B', T0 + 1, LEASE_MS)).toBe(false);
        expect(await other.acquireLease('planner', 'B', T0 + LEASE_MS - 1, LEASE_MS)).toBe(false);

        expect(await other.acquireLease('planner', 'B', T0 + LEASE_MS, LEASE_MS)).toBe(true);
        expect(await store.acquireLease('planner', 'A', T0 + LEASE_MS + 1, LEASE_MS)).toBe(false);
      });

      it('renews for the holder, pushing the expiry out', async () => {
        expect(await store.acquireLease('planner', 'A', T0, LEASE_MS)).toBe(true);
        expect(await store.acquireLease('planner', 'A', T0 + 20_000, LEASE_MS)).toBe(true);

        expect(await store.acquireLease('planner', 'B', T0 + LEASE_MS, LEASE_MS)).toBe(false);
        expect(await store.acquireLease('planner', 'B', T0 + 20_000 + LEASE_MS, LEASE_MS)).toBe(
          true,
        );
      });

      it('keeps leases of different names apart', async () => {
        expect(await store.acquireLease('planner', 'A', T0, LEASE_MS)).toBe(true);
        expect(await store.acquireLease('other-job', 'B', T0, LEASE_MS)).toBe(true);
      });

      it('frees the lease on release by its holder only', async () => {
        expect(await store.acquireLease('planner', 'A', T0, LEASE_MS)).toBe(true);

        await store.releaseLease('planner', 'B');
        expect(await store.acquireLease('planner', 'B', T0 + 1, LEASE_MS)).toBe(false);

        await store.releaseLease('planner', 'A');
        expect(await store.acquireLease('planner', 'B', T0 + 1, LEASE_MS)).toBe(true);
      });

      it('gives a free lease to exactly one of many instances asking at once', async () => {
        const handles = [store, await openAnotherInstance(), await openAnotherInstance()];

        const won = await Promise.all(
          handles.flatMap((handle, h) =>
            [0, 1, 2].map((n) => handle.acquireLease('planner', `owner-${h}-${n}`, T0, LEASE_MS)),
          ),
        );

        expect(won.filter(Boolean)).toHaveLength(1);
      });

      it('rejects a lease that is not a positive integer', async () => {
        await expect(store.acquireLease('planner', 'A', T0, 0)).rejects.toThrow(RangeError);
      });
    });

    describe('parking', () => {
      it('takes a claimed item out of rotation and lists it for support, oldest first', async () => {
        await schedule(work('tx-1', 'check', T0, { check: 3 }), work('tx-2', 'submit', T0));
        const [first, second] = await store.claimDue('A', T0, LEASE_MS, 10);

        await store.park(second, T0 + 200, 'second failure');
        await store.park(first, T0 + 100, 'provider answer not understood');

        expect(await store.claimDue('B', T0 + LEASE_MS * 10, LEASE_MS, 10)).toEqual([]);
        expect(await store.nextDueAt()).toBeNull();
        expect(await store.parkedWork(10)).toEqual([
          {
            ...work(first.transactionId, first.kind, T0, first.payload),
            parkedAt: T0 + 100,
            reason: 'provider answer not understood',
          },
          {
            ...work(second.transactionId, second.kind, T0, second.payload),
            parkedAt: T0 + 200,
            reason: 'second failure',
          },
        ]);
        expect(await store.parkedWork(1)).toHaveLength(1);
        expect(await store.pending(first.transactionId)).toEqual([
          work(first.transactionId, first.kind, T0, first.payload),
        ]);
      });

      it('puts a parked item back, due at once, for any instance to claim', async () => {
        await schedule(work('tx-1', 'check', T0, { check: 3 }));
        const claimed = await claimOnly('A', T0);
        await store.park(claimed, T0 + 100, 'failed');
        const other = await openAnotherInstance();

        expect(await other.retryParked('tx-1', 'check', T0 + 5_000)).toBe(true);

        expect(await store.parkedWork(10)).toEqual([]);
        expect(await store.nextDueAt()).toBe(T0 + 5_000);
        const again = await claimOnly('B', T0 + 5_000, other);
        expect(again).toMatchObject({
          transactionId: 'tx-1',
          kind: 'check',
          payload: { check: 3 },
        });
        expect(await other.retryParked('tx-1', 'check', T0 + 6_000)).toBe(false);
        expect(await other.retryParked('tx-unknown', 'check', T0 + 6_000)).toBe(false);
      });

      it('does not park an item that a newer plan replaced', async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);
        await schedule(work('tx-1', 'check', T0 + 50, { check: 2 }));

        await store.park(claimed, T0 + 100, 'failed');

        expect(await store.parkedWork(10)).toEqual([]);
        expect(await claimOnly('B', T0 + 50)).toMatchObject({ payload: { check: 2 } });
      });

      it('lets a newer plan replace a parked item, which puts it back in rotation', async () => {
        await schedule(work('tx-1', 'check', T0));
        await store.park(await claimOnly('A', T0), T0 + 100, 'failed');

        await schedule(work('tx-1', 'check', T0 + 300, { check: 2 }));

        expect(await store.parkedWork(10)).toEqual([]);
        expect(await claimOnly('B', T0 + 300)).toMatchObject({ payload: { check: 2 } });
      });

      it('rejects a limit that is not a positive integer', async () => {
        await expect(store.parkedWork(0)).rejects.toThrow(RangeError);
      });
    });

    describe('claimDue', () => {
      it('returns only work due at now (dueAt <= now), earliest first, up to the limit', async () => {
        await schedule(
          work('tx-c', 'check', T0 + 30),
          work('tx-a', 'submit', T0 + 10, { attempt: 1 }),
          work('tx-d', 'deadline', T0 + 40),
          work('tx-b', 'notify', T0 + 20),
          work('tx-late', 'check', T0 + 41),
        );

        const first = await store.claimDue('A', T0 + 40, LEASE_MS, 3);
        const second = await store.claimDue('A', T0 + 40, LEASE_MS, 3);

        expect(keys(first)).toEqual(['tx-a/submit', 'tx-b/notify', 'tx-c/check']);
        expect(first[0]).toMatchObject({
          ...work('tx-a', 'submit', T0 + 10, { attempt: 1 }),
          leaseOwner: 'A',
          leaseUntil: T0 + 40 + LEASE_MS,
        });
        expect(typeof first[0].version).toBe('number');
        expect(keys(second)).toEqual(['tx-d/deadline']);
      });

      it('leases what it returns: no owner, not even the same one, gets it while the lease lasts', async () => {
        const other = await openAnotherInstance();
        await schedule(work('tx-1', 'check', T0));
        await claimOnly('A', T0);

        const lastValidMoment = T0 + LEASE_MS - 1;
        expect(await store.claimDue('A', T0, LEASE_MS, 10)).toEqual([]);
        expect(await store.claimDue('B', lastValidMoment, LEASE_MS, 10)).toEqual([]);
        expect(await other.claimDue('B', lastValidMoment, LEASE_MS, 10)).toEqual([]);
        expect(await other.claimDue('A', lastValidMoment, LEASE_MS, 10)).toEqual([]);
      });

      it("hands work whose lease ended to another owner: a dead instance's work is picked up", async () => {
        const other = await openAnotherInstance();
        await schedule(work('tx-1', 'check', T0, { check: 3 }));
        const first = await claimOnly('A', T0);

        const second = await claimOnly('B', first.leaseUntil, other);

        expect(second).toMatchObject({
          ...work('tx-1', 'check', T0, { check: 3 }),
          leaseOwner: 'B',
          leaseUntil: first.leaseUntil + LEASE_MS,
        });
        expect(second.version).not.toBe(first.version);
      });

      it('never hands the same item to two instances claiming at once', async () => {
        const instances = [store, await openAnotherInstance()];
        const itemCount = 40;
        await schedule(
          ...Array.from({ length: itemCount }, (_, n) => work(`tx-${n}`, 'check', T0 + n)),
        );

        // Three lease generations: each time the leases run out, everything is claimed again.
        for (let generation = 0; generation < 3; generation += 1) {
          const now = T0 + itemCount + generation * LEASE_MS;
          const claimedKeys: string[] = [];
          for (let round = 0; round < itemCount; round += 1) {
            const batches = await Promise.all(
              instances.flatMap((instance, i) => [
                instance.claimDue(`instance-${i}-a`, now, LEASE_MS, 3),
                instance.claimDue(`instance-${i}-b`, now, LEASE_MS, 2),
              ]),
            );
            claimedKeys.push(...batches.flatMap(keys));
          }
          expect(claimedKeys).toHaveLength(itemCount);
          expect(new Set(claimedKeys).size).toBe(itemCount);
        }
      });

      it('rejects a limit or lease that is not a positive integer', async () => {
        await expect(store.claimDue('A', T0, LEASE_MS, 0)).rejects.toThrow(RangeError);
        await expect(store.claimDue('A', T0, 0, 10)).rejects.toThrow(RangeError);
      });
    });

    describe('renewLease', () => {
      it('extends a lease still held, so nobody claims the item at its first expiry', async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);

        expect(await store.renewLease(claimed, T0 + 20_000, LEASE_MS)).toBe(true);

        expect(await store.claimDue('B', claimed.leaseUntil, LEASE_MS, 10)).toEqual([]);
        expect(keys(await store.claimDue('B', T0 + 20_000 + LEASE_MS, LEASE_MS, 10))).toEqual([
          'tx-1/check',
        ]);
      });

      it('still renews a lease that ran out if nobody took the item', async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);

        expect(await store.renewLease(claimed, claimed.leaseUntil + 5, LEASE_MS)).toBe(true);
        expect(await store.claimDue('B', claimed.leaseUntil + 6, LEASE_MS, 10)).toEqual([]);
      });

      it("is false once another owner reclaimed the item, and leaves that owner's lease alone", async () => {
        const other = await openAnotherInstance();
        await schedule(work('tx-1', 'check', T0));
        const lost = await claimOnly('A', T0);
        const taken = await claimOnly('B', lost.leaseUntil, other);

        expect(await store.renewLease(lost, taken.leaseUntil - 1, 10 * LEASE_MS)).toBe(false);

        expect(await store.claimDue('C', taken.leaseUntil - 1, LEASE_MS, 10)).toEqual([]);
        expect(await store.claimDue('C', taken.leaseUntil, LEASE_MS, 10)).toHaveLength(1);
      });

      it('is false for an earlier claim, even when the same owner claimed the item again', async () => {
        await schedule(work('tx-1', 'check', T0));
        const earlier = await claimOnly('A', T0);
        const current = await claimOnly('A', earlier.leaseUntil);

        expect(await store.renewLease(earlier, current.leaseUntil - 1, LEASE_MS)).toBe(false);
        expect(await store.renewLease(current, current.leaseUntil - 1, LEASE_MS)).toBe(true);
      });

      it('is false once the item was replaced by a newer plan or cancelled', async () => {
        await schedule(work('tx-1', 'check', T0), work('tx-2', 'check', T0));
        const [replaced, cancelled] = await store.claimDue('A', T0, LEASE_MS, 10);

        await schedule(work('tx-1', 'check', T0 + 5_000));
        await cancel('tx-2', 'check');

        expect(await store.renewLease(replaced, T0 + 1, LEASE_MS)).toBe(false);
        expect(await store.renewLease(cancelled, T0 + 1, LEASE_MS)).toBe(false);
      });
    });

    describe('complete', () => {
      it('deletes the claimed item', async () => {
        await schedule(work('tx-1', 'check', T0), work('tx-1', 'deadline', T0 + 60_000));
        const claimed = await claimOnly('A', T0);

        await store.complete(claimed);

        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'deadline', T0 + 60_000)]);
      });

      it('leaves a newer plan alone; the newer plan is a new item, free to claim at its dueAt', async () => {
        await schedule(work('tx-1', 'check', T0, { check: 1 }));
        const claimed = await claimOnly('A', T0);
        await schedule(work('tx-1', 'check', T0 + 1_000, { check: 2 }));

        await store.complete(claimed);

        expect(await store.pending('tx-1')).toEqual([
          work('tx-1', 'check', T0 + 1_000, { check: 2 }),
        ]);
        expect(await store.claimDue('B', T0 + 999, LEASE_MS, 10)).toEqual([]);
        expect(await claimOnly('B', T0 + 1_000)).toMatchObject({ payload: { check: 2 } });
      });

      it('leaves alone an item that another owner reclaimed after the lease ran out', async () => {
        await schedule(work('tx-1', 'check', T0));
        const lost = await claimOnly('A', T0);
        await claimOnly('B', lost.leaseUntil);

        await store.complete(lost);

        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0)]);
      });

      it('leaves alone the same work cancelled and planned again, even once it is claimed again', async () => {
        await schedule(work('tx-1', 'check', T0));
        const old = await claimOnly('A', T0);
        await cancel('tx-1', 'check');
        await schedule(work('tx-1', 'check', T0));
        const current = await claimOnly('B', T0);

        await store.complete(old);

        expect(current.version).not.toBe(old.version);
        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0)]);
        expect(await store.renewLease(current, T0 + 1, LEASE_MS)).toBe(true);
      });
    });

    describe('reschedule', () => {
      it('moves the item to a new dueAt and frees its lease, with a new payload if given', async () => {
        await schedule(
          work('tx-1', 'check', T0, { check: 1 }),
          work('tx-2', 'check', T0, { n: 7 }),
        );
        const [first, second] = await store.claimDue('A', T0, LEASE_MS, 10);

        await store.reschedule(first, T0 + 5_000, { check: 2 });
        await store.reschedule(second, T0 + 6_000);

        expect(await store.pending('tx-1')).toEqual([
          work('tx-1', 'check', T0 + 5_000, { check: 2 }),
        ]);
        expect(await store.pending('tx-2')).toEqual([work('tx-2', 'check', T0 + 6_000, { n: 7 })]);
        expect(await store.claimDue('B', T0 + 4_999, LEASE_MS, 10)).toEqual([]);
        // Both leases would still hold until T0 + LEASE_MS had reschedule not freed them.
        expect(keys(await store.claimDue('B', T0 + 6_000, LEASE_MS, 10))).toEqual([
          'tx-1/check',
          'tx-2/check',
        ]);
      });

      it('gives the item a new version: the old claim can neither complete nor renew it', async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);
        await store.reschedule(claimed, T0 + 5_000);

        await store.complete(claimed);

        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0 + 5_000)]);
        expect(await store.renewLease(claimed, T0 + 1, LEASE_MS)).toBe(false);
      });

      it('does nothing when a newer plan replaced the item', async () => {
        await schedule(work('tx-1', 'check', T0, { check: 1 }));
        const claimed = await claimOnly('A', T0);
        await schedule(work('tx-1', 'check', T0 + 1_000, { check: 2 }));

        await store.reschedule(claimed, T0 + 9_000, { check: 1 });

        expect(await store.pending('tx-1')).toEqual([
          work('tx-1', 'check', T0 + 1_000, { check: 2 }),
        ]);
      });

      it('brings back neither by reschedule nor by complete an item cancelled while claimed', async () => {
        await schedule(work('tx-1', 'check', T0), work('tx-2', 'check', T0));
        const [first, second] = await store.claimDue('A', T0, LEASE_MS, 10);
        await cancel('tx-1', 'check');
        await cancel('tx-2', 'check');

        await store.reschedule(first, T0 + 5_000, { check: 2 });
        await store.complete(second);

        expect(await store.pending('tx-1')).toEqual([]);
        expect(await store.pending('tx-2')).toEqual([]);
        expect(await store.nextDueAt()).toBeNull();
      });
    });

    describe('nextDueAt', () => {
      it('is null when empty, else the earliest dueAt, on every instance', async () => {
        const other = await openAnotherInstance();
        expect(await store.nextDueAt()).toBeNull();

        await schedule(work('tx-1', 'check', T0 + 500), work('tx-2', 'check', T0 + 100));

        expect(await store.nextDueAt()).toBe(T0 + 100);
        expect(await other.nextDueAt()).toBe(T0 + 100);
      });

      it('counts a leased item from the end of its lease, when claimDue could next return it', async () => {
        await schedule(work('tx-1', 'check', T0), work('tx-2', 'check', T0 + LEASE_MS + 50));
        const claimed = await claimOnly('A', T0 + 10);

        expect(await store.nextDueAt()).toBe(claimed.leaseUntil);

        await store.complete(claimed);
        expect(await store.nextDueAt()).toBe(T0 + LEASE_MS + 50);
      });
    });

    describe('pending', () => {
      it("lists one transaction's work as plain items, claimed or not, by dueAt", async () => {
        await schedule(
          work('tx-1', 'deadline', T0 + 60_000),
          work('tx-1', 'check', T0, { check: 1 }),
          work('tx-2', 'check', T0),
        );
        await store.claimDue('A', T0, LEASE_MS, 10);

        expect(await store.pending('tx-1')).toEqual([
          work('tx-1', 'check', T0, { check: 1 }),
          work('tx-1', 'deadline', T0 + 60_000),
        ]);
      });
    });

    describe('takeStatusCheck', () => {
      it('grants a check, then refuses with retryAt, the moment the next token is available', async () => {
        expect(await store.takeStatusCheck(T0, BUDGET)).toEqual({ granted: true });

        expect(await store.takeStatusCheck(T0, BUDGET)).toEqual({
          granted: false,
          retryAt: T0 + 500,
        });
        expect(await store.takeStatusCheck(T0 + 499, BUDGET)).toEqual({
          granted: false,
          retryAt: T0 + 500,
        });
        expect(await store.takeStatusCheck(T0 + 500, BUDGET)).toEqual({ granted: true });
        expect(retryAtOf(await store.takeStatusCheck(T0 + 501, BUDGET))).toBe(T0 + 1_000);
      });

      it('holds one token at most: a long quiet spell allows one check, not a burst', async () => {
        expect(await store.takeStatusCheck(T0, BUDGET)).toEqual({ granted: true });

        expect(await store.takeStatusCheck(T0 + 60_000, BUDGET)).toEqual({ granted: true });
        expect(retryAtOf(await store.takeStatusCheck(T0 + 60_000, BUDGET))).toBe(T0 + 60_500);
      });

      it('keeps the rate over a simulated minute of frequent polls from two instances', async () => {
        const instances = [store, await openAnotherInstance()];
        const random = new SeededRandom(20_250_101);
        const grants: { at: number; instance: number }[] = [];
        const wrongRetryAts: { at: number; retryAt: number }[] = [];

        for (let at = T0; at < T0 + 60_000; at += 1 + Math.floor(random.next() * 30)) {
          const instance = Math.floor(random.next() * instances.length);
          const decision = await instances[instance].takeStatusCheck(at, BUDGET);
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
            [store, other, store, other].map((instance) => instance.takeStatusCheck(at, BUDGET)),
          );
          expect(decisions.filter((decision) => decision.granted)).toHaveLength(1);
        }
      });
    });

    describe('slowDown and recover', () => {
      it('refuses every check on every instance until `until`, then allows one', async () => {
        const other = await openAnotherInstance();
        await store.slowDown(T0, T0 + 10_000, BUDGET);

        expect(await other.takeStatusCheck(T0, BUDGET)).toEqual({
          granted: false,
          retryAt: T0 + 10_000,
        });
        expect(retryAtOf(await store.takeStatusCheck(T0 + 9_999, BUDGET))).toBe(T0 + 10_000);

        expect(await other.takeStatusCheck(T0 + 10_000, BUDGET)).toEqual({ granted: true });
        expect(await store.takeStatusCheck(T0 + 10_000, BUDGET)).toMatchObject({ granted: false });
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

        expect(retryAtOf(await store.takeStatusCheck(T0 + 5_999, BUDGET))).toBe(T0 + 6_000);
        expect(await waitAfterGrant(store, T0 + 6_000)).toBe(1_000);
      });

      it('recovers a tenth of the configured rate per successful check, up to that rate', async () => {
        const other = await openAnotherInstance();
        await store.slowDown(T0, T0 + 10_000, BUDGET);
        const gaps: number[] = [];
        let at = T0 + 10_000;

        for (let success = 0; success < 7; success += 1) {
          const instance = success % 2 === 0 ? store : other;
          expect(await instance.takeStatusCheck(at, BUDGET)).toEqual({ granted: true });
          await instance.recover(at, BUDGET);
          const retryAt = retryAtOf(await store.takeStatusCheck(at, BUDGET));
          expect(retryAtOf(await other.takeStatusCheck(retryAt - 1, BUDGET))).toBe(retryAt);
          gaps.push(retryAt - at);
          at = retryAt;
        }

        // 1.2/s, 1.4/s, 1.6/s, 1.8/s, then the configured 2/s, where it stays.
        expect(gaps).toEqual([834, 715, 625, 556, 500, 500, 500]);
      });

      it('does not recover while paused: a check sent before the 429 does not end the pause', async () => {
        await store.slowDown(T0, T0 + 10_000, BUDGET);

        await store.recover(T0 + 1_000, BUDGET);

        expect(retryAtOf(await store.takeStatusCheck(T0 + 1_000, BUDGET))).toBe(T0 + 10_000);
        expect(await waitAfterGrant(store, T0 + 10_000)).toBe(1_000);
      });
    });

    describe('durability', () => {
      it('keeps work, leases, checkpoint and budget across close and reopen', async () => {
        await store.commit(
          {
            schedule: [
              work('tx-1', 'check', T0, { check: 1 }),
              work('tx-2', 'deadline', T0 + 60_000),
            ],
            cancel: [],
          },
          batch(1n, 41n),
        );
        const claimed = await claimOnly('A', T0 + 20);
        expect(await store.takeStatusCheck(T0 + 20, BUDGET)).toEqual({ granted: true });
        await store.slowDown(T0 + 30, T0 + 5_000, BUDGET);

        await restart();

        expect(await store.checkpoint()).toBe(41n);
        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0, { check: 1 })]);
        expect(await store.nextDueAt()).toBe(claimed.leaseUntil);
        expect(await store.claimDue('B', claimed.leaseUntil - 1, LEASE_MS, 10)).toEqual([]);
        expect(await store.renewLease(claimed, T0 + 40, LEASE_MS)).toBe(true);
        expect(retryAtOf(await store.takeStatusCheck(T0 + 4_000, BUDGET))).toBe(T0 + 5_000);
        expect(await waitAfterGrant(store, T0 + 5_000)).toBe(1_000);
      });

      it('answers ping while open and rejects it once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();

        await close(store);

        await expect(store.ping()).rejects.toThrow();
      });
    });
  });
}
