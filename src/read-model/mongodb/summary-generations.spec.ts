import {
  abandonedGeneration,
  generationsInsertedBeside,
  INITIAL_GENERATIONS,
} from './summary-generations';

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
