import {
  abandonedGeneration,
  generationsInsertedBeside,
  INITIAL_GENERATIONS,
  swapDecision,
} from './summary-generations';

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

describe('abandonedGeneration', () => {
  it('drops the rebuild this instance began, even when a newer one superseded it', () => {
    expect(abandonedGeneration(3, { live: 1, rebuild: 3 })).toBe(3);
    expect(abandonedGeneration(3, { live: 1, rebuild: 4 })).toBe(3);
  });

  it("drops whichever rebuild is unfinished when this instance began none (a crashed run's)", () => {
    expect(abandonedGeneration(null, { live: 1, rebuild: 4 })).toBe(4);
    expect(abandonedGeneration(null, { live: 1, rebuild: null })).toBeNull();
  });

  it('never drops the live copy', () => {
    expect(abandonedGeneration(2, { live: 2, rebuild: null })).toBeNull();
  });
});

describe('generationsInsertedBeside', () => {
  it('leaves out the counter the same update increments, keeping the rest of a new document', () => {
    expect(generationsInsertedBeside('liveCommits')).toStrictEqual({
      live: 0,
      rebuild: null,
      lastGeneration: 0,
    });
    expect(generationsInsertedBeside('lastGeneration')).toStrictEqual({
      live: 0,
      rebuild: null,
      liveCommits: 0,
    });
    expect(INITIAL_GENERATIONS).toMatchObject({ live: 0, lastGeneration: 0 });
  });
});
