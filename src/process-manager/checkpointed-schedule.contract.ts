import type { StoreHandle, StoreHarness } from '../../test/support/store-handles';
import { storeHandles } from '../../test/support/store-handles';
import { scheduleWriter, work } from '../../test/support/schedule-writer';
import {
  CheckpointedSchedule,
  PlannedBatch,
  StaleCheckpointError,
} from './checkpointed-schedule.port';
import type { WorkItem, WorkKind, WorkQueue } from './work-queue.port';

/**
 * The CheckpointedSchedule contract: every adapter's spec calls
 * describeCheckpointedScheduleContract with a harness that opens its kind of store. The schedule
 * is read back through the WorkQueue of the same store.
 */

export type ScheduleStore = CheckpointedSchedule & Pick<WorkQueue, 'pending'> & StoreHandle;

/** Epoch milliseconds in 2030: far from 0, so an adapter confusing times and durations fails. */
const T0 = 1_900_000_000_000;
/** Beyond 2^53: a checkpoint that went through a JS number would come back different. */
const BEYOND_SAFE_INTEGER = 2n ** 53n + 5n;

const batch = (firstPosition: bigint, checkpoint: bigint): PlannedBatch => ({
  firstPosition,
  checkpoint,
});

export function describeCheckpointedScheduleContract(
  adapterName: string,
  harness: StoreHarness<ScheduleStore>,
): void {
  describe(`CheckpointedSchedule contract: ${adapterName}`, () => {
    const handles = storeHandles(harness);
    let store: ScheduleStore;
    let writer: ReturnType<typeof scheduleWriter>;

    beforeEach(() => {
      store = handles.store;
      writer = scheduleWriter(store);
    });

    const openAnotherInstance = () => handles.openAnotherInstance();

    const schedule = (...items: WorkItem[]) => writer.schedule(...items);
    const cancel = (transactionId: string, ...kinds: WorkKind[]) =>
      writer.cancel(transactionId, ...kinds);

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
          writer.nextBatch(),
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

    describe('durability', () => {
      it('keeps the checkpoint and the scheduled work across close and reopen', async () => {
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

        store = await handles.restart();

        expect(await store.checkpoint()).toBe(41n);
        expect(await store.pending('tx-1')).toEqual([work('tx-1', 'check', T0, { check: 1 })]);
        expect(await store.pending('tx-2')).toEqual([work('tx-2', 'deadline', T0 + 60_000)]);
      });
    });
  });
}
