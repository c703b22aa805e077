import { swapDecision } from './rebuild-swap';

describe('swapDecision', () => {
  it('swaps a copy at the live checkpoint or past it', () => {
    expect(swapDecision(6n, 6n)).toStrictEqual({ swapped: true, checkpoint: 6n });
    expect(swapDecision(6n, 9n)).toStrictEqual({ swapped: true, checkpoint: 9n });
  });

  it('swaps a copy into a store whose live projection never ran', () => {
    expect(swapDecision(null, 0n)).toStrictEqual({ swapped: true, checkpoint: 0n });
  });

  it('refuses a copy behind the live checkpoint and says how far each is', () => {
    expect(swapDecision(6n, 5n)).toStrictEqual({
      swapped: false,
      rebuildCheckpoint: 5n,
      liveCheckpoint: 6n,
    });
  });

  it('refuses a copy that has no checkpoint yet', () => {
    expect(swapDecision(null, null)).toStrictEqual({
      swapped: false,
      rebuildCheckpoint: null,
      liveCheckpoint: null,
    });
  });

  it('compares beyond 2^64 exactly', () => {
    expect(swapDecision(2n ** 64n + 1n, 2n ** 64n)).toMatchObject({ swapped: false });
  });
});
