import { describeStatusCheckBudgetContract } from '../status-check-budget.contract';
import { MemoryBudgetStorage, MemoryStatusCheckBudget } from './memory-status-check-budget';

describeStatusCheckBudgetContract('memory', {
  async openEmpty() {
    const storage = new MemoryBudgetStorage();
    return {
      store: new MemoryStatusCheckBudget(storage),
      openAnotherHandle: async () => new MemoryStatusCheckBudget(storage),
      dispose: async () => undefined,
    };
  },
});

describe('MemoryStatusCheckBudget', () => {
  const settings = { ratePerSecond: 2, minRatePerSecond: 0.25 };

  it('rejects every call once closed, and leaves the budget spent to the other instances', async () => {
    const storage = new MemoryBudgetStorage();
    const crashed = new MemoryStatusCheckBudget(storage);
    expect(await crashed.take(1_000, settings)).toEqual({ granted: true });
    await crashed.close();

    await expect(crashed.take(2_000, settings)).rejects.toThrow(/closed/);
    await expect(crashed.slowDown(2_000, 3_000, settings)).rejects.toThrow(/closed/);
    await expect(crashed.recover(2_000, settings)).rejects.toThrow(/closed/);
    const survivor = new MemoryStatusCheckBudget(storage);
    expect(await survivor.take(1_000, settings)).toEqual({ granted: false, retryAt: 1_500 });
  });
});
