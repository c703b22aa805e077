import { describeCheckpointedScheduleContract } from '../checkpointed-schedule.contract';
import { describeNamedLeasesContract } from '../named-leases.contract';
import { describeWorkQueueContract } from '../work-queue.contract';
import { MemoryLeaseStorage, MemoryNamedLeases } from './memory-named-leases';
import { MemoryWorkStorage, MemoryWorkStore } from './memory-work-store';

const harness = {
  async openEmpty() {
    const storage = new MemoryWorkStorage();
    return {
      store: new MemoryWorkStore(storage),
      openAnotherHandle: async () => new MemoryWorkStore(storage),
      dispose: async () => undefined,
    };
  },
};

describeCheckpointedScheduleContract('memory', harness);
describeWorkQueueContract('memory', harness);
describeNamedLeasesContract('memory', {
  async openEmpty() {
    const storage = new MemoryLeaseStorage();
    return {
      store: new MemoryNamedLeases(storage),
      openAnotherHandle: async () => new MemoryNamedLeases(storage),
      dispose: async () => undefined,
    };
  },
});

describe('MemoryWorkStore', () => {
  const T0 = 1_900_000_000_000;
  const LEASE_MS = 30_000;
  const storeOn = () => new MemoryWorkStore(new MemoryWorkStorage());

  it('claims items due at the same moment by transaction id, then kind, whatever order they were planned in', async () => {
    const store = storeOn();
    await store.commit(
      {
        schedule: [
          { transactionId: 'tx-b', kind: 'check', dueAt: T0, payload: {} },
          { transactionId: 'tx-a', kind: 'submit', dueAt: T0, payload: {} },
          { transactionId: 'tx-a', kind: 'check', dueAt: T0, payload: {} },
        ],
        cancel: [],
      },
      { firstPosition: 1n, checkpoint: 1n },
    );

    const claimed = await store.claimDue('A', T0, LEASE_MS, 10);

    expect(claimed.map((item) => `${item.transactionId}/${item.kind}`)).toEqual([
      'tx-a/check',
      'tx-a/submit',
      'tx-b/check',
    ]);
  });

  it('keeps the payload it stored when the caller changes the object it passed in or read back', async () => {
    const store = storeOn();
    const payload = { attempt: 1 };
    await store.commit(
      { schedule: [{ transactionId: 'tx-1', kind: 'submit', dueAt: T0, payload }], cancel: [] },
      { firstPosition: 1n, checkpoint: 1n },
    );

    payload.attempt = 2;
    const [claimed] = await store.claimDue('A', T0, LEASE_MS, 1);
    claimed.payload.attempt = 3;

    expect(await store.pending('tx-1')).toMatchObject([{ payload: { attempt: 1 } }]);
  });

  it('rejects every call once closed, and leaves the work to the other instances', async () => {
    const storage = new MemoryWorkStorage();
    const crashed = new MemoryWorkStore(storage);
    await crashed.commit(
      { schedule: [{ transactionId: 'tx-1', kind: 'check', dueAt: T0, payload: {} }], cancel: [] },
      { firstPosition: 1n, checkpoint: 1n },
    );
    await crashed.close();

    await expect(crashed.claimDue('A', T0, LEASE_MS, 1)).rejects.toThrow(/closed/);
    await expect(crashed.checkpoint()).rejects.toThrow(/closed/);
    await expect(crashed.pending('tx-1')).rejects.toThrow(/closed/);
    const survivor = new MemoryWorkStore(storage);
    expect(await survivor.checkpoint()).toBe(1n);
    expect(await survivor.claimDue('B', T0, LEASE_MS, 1)).toHaveLength(1);
  });
});

describe('MemoryNamedLeases', () => {
  it('rejects every call once closed, and keeps its lease held until it runs out', async () => {
    const storage = new MemoryLeaseStorage();
    const crashed = new MemoryNamedLeases(storage);
    await crashed.acquire('planner', 'A', 1000, 500);
    await crashed.close();

    await expect(crashed.acquire('planner', 'A', 1001, 500)).rejects.toThrow(/closed/);
    await expect(crashed.release('planner', 'A')).rejects.toThrow(/closed/);
    const survivor = new MemoryNamedLeases(storage);
    expect(await survivor.acquire('planner', 'B', 1499, 500)).toBe(false);
    expect(await survivor.acquire('planner', 'B', 1500, 500)).toBe(true);
  });
});
