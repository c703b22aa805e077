import type { StoreHandle, StoreHarness } from '../../test/support/store-handles';
import { storeHandles } from '../../test/support/store-handles';
import { scheduleWriter, work } from '../../test/support/schedule-writer';
import type { CheckpointedSchedule } from './checkpointed-schedule.port';
import type { ClaimedWork, WorkItem, WorkKind, WorkQueue } from './work-queue.port';

/**
 * The WorkQueue contract: every adapter's spec calls describeWorkQueueContract with a harness
 * that opens its kind of store. Work is put in through the CheckpointedSchedule of the same
 * store, as the planner does. The suite chooses every `now` itself, so hours of leases run
 * without sleeping.
 */

export type QueueStore = WorkQueue & CheckpointedSchedule & StoreHandle;

/** Epoch milliseconds in 2030: far from 0, so an adapter confusing times and durations fails. */
const T0 = 1_900_000_000_000;
const LEASE_MS = 30_000;

const keys = (items: WorkItem[]) => items.map((item) => `${item.transactionId}/${item.kind}`);

export function describeWorkQueueContract(
  adapterName: string,
  harness: StoreHarness<QueueStore>,
): void {
  describe(`WorkQueue contract: ${adapterName}`, () => {
    const handles = storeHandles(harness);
    let store: QueueStore;
    let writer: ReturnType<typeof scheduleWriter>;

    beforeEach(() => {
      store = handles.store;
      writer = scheduleWriter(store);
    });

    const openAnotherInstance = () => handles.openAnotherInstance();

    const schedule = (...items: WorkItem[]) => writer.schedule(...items);
    const cancel = (transactionId: string, ...kinds: WorkKind[]) =>
      writer.cancel(transactionId, ...kinds);

    /** Claims the one item due at `now` for `owner`, failing unless there is exactly one. */
    async function claimOnly(owner: string, now: number, on = store): Promise<ClaimedWork> {
      const claimed = await on.claimDue(owner, now, LEASE_MS, 10);
      expect(claimed).toHaveLength(1);
      return claimed[0];
    }

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

      it('with kinds, claims only those kinds, earliest first, whatever waits of the others', async () => {
        await schedule(
          work('tx-c1', 'check', T0 + 10),
          work('tx-c2', 'check', T0 + 20),
          work('tx-c3', 'check', T0 + 30),
          work('tx-s', 'submit', T0 + 40, { attempt: 1 }),
          work('tx-d', 'deadline', T0 + 50),
        );

        const others = await store.claimDue('A', T0 + 60, LEASE_MS, 10, ['submit', 'deadline']);
        const checks = await store.claimDue('A', T0 + 60, LEASE_MS, 2, ['check']);

        expect(keys(others)).toEqual(['tx-s/submit', 'tx-d/deadline']);
        expect(keys(checks)).toEqual(['tx-c1/check', 'tx-c2/check']);
        expect(keys(await store.claimDue('A', T0 + 60, LEASE_MS, 10))).toEqual(['tx-c3/check']);
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

    describe('renewLeases', () => {
      /** Renews `works` for their own owner; the keys of those it lost. */
      const renew = async (works: ClaimedWork[], now: number, leaseMs = LEASE_MS, on = store) =>
        keys(await on.renewLeases(works[0].leaseOwner, works, now, leaseMs));

      it('extends every lease still held in one call, so nobody claims them at their first expiry', async () => {
        await schedule(work('tx-1', 'check', T0), work('tx-2', 'submit', T0));
        const claimed = await store.claimDue('A', T0, LEASE_MS, 10);
        expect(claimed).toHaveLength(2);

        expect(await renew(claimed, T0 + 20_000)).toEqual([]);

        expect(await store.claimDue('B', claimed[0].leaseUntil, LEASE_MS, 10)).toEqual([]);
        expect(keys(await store.claimDue('B', T0 + 20_000 + LEASE_MS, LEASE_MS, 10))).toEqual([
          'tx-1/check',
          'tx-2/submit',
        ]);
      });

      it('does nothing for an empty list', async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);

        expect(await store.renewLeases('A', [], T0 + 20_000, LEASE_MS)).toEqual([]);

        expect(keys(await store.claimDue('B', claimed.leaseUntil, LEASE_MS, 10))).toEqual([
          'tx-1/check',
        ]);
      });

      it('still renews a lease that ran out if nobody took the item', async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);

        expect(await renew([claimed], claimed.leaseUntil + 5)).toEqual([]);
        expect(await store.claimDue('B', claimed.leaseUntil + 6, LEASE_MS, 10)).toEqual([]);
      });

      it("returns a lease expired and reclaimed by another owner, leaves that owner's lease alone, and renews the rest", async () => {
        const other = await openAnotherInstance();
        await schedule(work('tx-1', 'check', T0));
        const lost = await claimOnly('A', T0);
        const taken = await claimOnly('B', lost.leaseUntil, other);
        await schedule(work('tx-2', 'check', taken.leaseUntil - 2));
        const kept = await claimOnly('A', taken.leaseUntil - 2);

        expect(await renew([lost, kept], taken.leaseUntil - 1, 10 * LEASE_MS)).toEqual([
          'tx-1/check',
        ]);

        expect(await store.claimDue('C', taken.leaseUntil - 1, LEASE_MS, 10)).toEqual([]);
        // At kept's first expiry B's lease has run out, and kept's was renewed.
        expect(keys(await store.claimDue('C', kept.leaseUntil, LEASE_MS, 10))).toEqual([
          'tx-1/check',
        ]);
      });

      it('returns an earlier claim, even when the same owner claimed the item again', async () => {
        await schedule(work('tx-1', 'check', T0));
        const earlier = await claimOnly('A', T0);
        const current = await claimOnly('A', earlier.leaseUntil);

        expect(
          await store.renewLeases('A', [earlier, current], current.leaseUntil - 1, LEASE_MS),
        ).toEqual([earlier]);
      });

      it("renews no lease of another owner's, whatever the claim says", async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);

        expect(await store.renewLeases('B', [claimed], T0 + 1, 10 * LEASE_MS)).toEqual([claimed]);
        expect(await store.claimDue('B', claimed.leaseUntil, LEASE_MS, 10)).toHaveLength(1);
      });

      it('returns the items completed, rescheduled, parked, replaced by a newer plan or cancelled meanwhile', async () => {
        await schedule(
          ...['tx-1', 'tx-2', 'tx-3', 'tx-4', 'tx-5', 'tx-6'].map((id) => work(id, 'check', T0)),
        );
        const [completed, rescheduled, parked, replaced, cancelled, held] = await store.claimDue(
          'A',
          T0,
          LEASE_MS,
          10,
        );
        await store.complete(completed);
        await store.reschedule(rescheduled, T0 + 5_000);
        await store.park(parked, T0, 'poison');
        await schedule(work('tx-4', 'check', T0 + 5_000));
        await cancel('tx-5', 'check');

        expect(
          await renew([completed, rescheduled, parked, replaced, cancelled, held], T0 + 1),
        ).toEqual(['tx-1/check', 'tx-2/check', 'tx-3/check', 'tx-4/check', 'tx-5/check']);
      });

      it('rejects a time or lease that is not valid', async () => {
        await schedule(work('tx-1', 'check', T0));
        const claimed = await claimOnly('A', T0);

        await expect(store.renewLeases('A', [claimed], T0, 0)).rejects.toThrow(RangeError);
        await expect(store.renewLeases('A', [claimed], Number.NaN, LEASE_MS)).rejects.toThrow(
          RangeError,
        );
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
        expect(await store.renewLeases('B', [current], T0 + 1, LEASE_MS)).toEqual([]);
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
        expect(await store.renewLeases('A', [claimed], T0 + 1, LEASE_MS)).toEqual([claimed]);
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

      it('with kinds, looks at those kinds only, leased or not', async () => {
        await schedule(work('tx-1', 'check', T0 + 100), work('tx-2', 'submit', T0 + 500));

        expect(await store.nextDueAt(['submit'])).toBe(T0 + 500);
        expect(await store.nextDueAt(['check', 'submit'])).toBe(T0 + 100);
        expect(await store.nextDueAt(['settle'])).toBeNull();

        const [check] = await store.claimDue('A', T0 + 100, LEASE_MS, 1, ['check']);
        expect(await store.nextDueAt(['check'])).toBe(check.leaseUntil);
        expect(await store.nextDueAt(['submit'])).toBe(T0 + 500);
      });
    });

    describe('backlog', () => {
      it('counts the items due at now by kind, leased or not, and the parked ones apart', async () => {
        expect(await store.backlog(T0)).toEqual({
          submit: 0,
          check: 0,
          deadline: 0,
          notify: 0,
          settle: 0,
          parked: 0,
        });
        await schedule(
          work('tx-1', 'check', T0 - 10),
          work('tx-2', 'check', T0),
          work('tx-3', 'check', T0 + 1),
          work('tx-1', 'submit', T0 - 5),
          work('tx-4', 'settle', T0 - 5),
          work('tx-5', 'deadline', T0 - 20),
        );
        await store.park(await claimOnly('A', T0 - 20), T0, 'failed');
        await claimOnly('A', T0 - 10);

        const other = await openAnotherInstance();
        const expected = { submit: 1, check: 2, deadline: 0, notify: 0, settle: 1, parked: 1 };
        expect(await store.backlog(T0)).toEqual(expected);
        expect(await other.backlog(T0)).toEqual(expected);
        expect(await store.backlog(T0 + 1)).toEqual({ ...expected, check: 3 });
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

    describe('durability', () => {
      it('keeps work and its leases across close and reopen', async () => {
        await store.commit(
          {
            schedule: [
              work('tx-1', 'check', T0, { check: 1 }),
              work('tx-2', 'deadline', T0 + 60_000),
            ],
            cancel: [],
          },
          { firstPosition: 1n, checkpoint: 41n },
        );
        const claimed = await claimOnly('A', T0 + 20);

        store = await handles.restart();

        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0, { check: 1 })]);
        expect(await store.nextDueAt()).toBe(claimed.leaseUntil);
        expect(await store.claimDue('B', claimed.leaseUntil - 1, LEASE_MS, 10)).toEqual([]);
        expect(await store.renewLeases('A', [claimed], T0 + 40, LEASE_MS)).toEqual([]);
      });

      it('answers ping while open and rejects it once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();

        await handles.close(store);

        await expect(store.ping()).rejects.toThrow();
      });
    });
  });
}
