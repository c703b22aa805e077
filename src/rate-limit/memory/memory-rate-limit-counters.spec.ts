import { describeRateLimitCountersContract } from '../rate-limit-counters.contract';
import { MemoryRateLimitCounters, MemoryRateLimitStorage } from './memory-rate-limit-counters';

describeRateLimitCountersContract('memory', {
  async openEmpty() {
    const storage = new MemoryRateLimitStorage();
    return {
      counters: new MemoryRateLimitCounters(storage),
      openAnotherHandle: async () => new MemoryRateLimitCounters(storage),
      dispose: async () => undefined,
    };
  },
});

describe('MemoryRateLimitCounters', () => {
  const WINDOW_MS = 1_000;
  const W0 = 1_900_000_000_000;

  it('forgets the windows that have ended, so the storage holds about one window', async () => {
    const storage = new MemoryRateLimitStorage();
    const counters = new MemoryRateLimitCounters(storage);

    for (let window = 0; window < 5; window++) {
      const deltas = Array.from({ length: 10 }, (_, i) => ({ caller: `c${i}`, count: 1 }));
      await counters.add(W0 + window * WINDOW_MS, WINDOW_MS, deltas, 100);
    }

    expect([...storage.windows.keys()]).toEqual([W0 + 4 * WINDOW_MS]);
    expect(storage.windows.get(W0 + 4 * WINDOW_MS)?.counts.size).toBe(10);
  });

  it('rejects a sync once closed, and keeps the counts for the other instances', async () => {
    const storage = new MemoryRateLimitStorage();
    const crashed = new MemoryRateLimitCounters(storage);
    await crashed.add(W0, WINDOW_MS, [{ caller: 'principal:alice', count: 2 }], 100);
    crashed.close();

    await expect(crashed.add(W0, WINDOW_MS, [], 1)).rejects.toThrow(/closed/);
    const survivor = new MemoryRateLimitCounters(storage);
    expect(await survivor.add(W0, WINDOW_MS, [], 1)).toEqual(new Map([['principal:alice', 2]]));
  });
});
