import { SeededRandom } from './random';

describe('SeededRandom', () => {
  it('repeats its numbers for the same seed, differs for another, and stays in [0, 1)', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 1000 }, () => random.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7).every((n) => n >= 0 && n < 1)).toBe(true);
  });
});
