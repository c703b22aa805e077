import { CryptoIds, SeededIds } from './ids';
import { SeededRandom } from './random';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Ids', () => {
  it('given one seed, when two sources draw ids, then they draw the same version 4 UUIDs', () => {
    const first = new SeededIds(new SeededRandom(7));
    const second = new SeededIds(new SeededRandom(7));
    const drawn = Array.from({ length: 50 }, () => first.uuid());
    expect(drawn).toEqual(Array.from({ length: 50 }, () => second.uuid()));
    for (const id of drawn) expect(id).toMatch(UUID_V4);
    expect(new Set(drawn).size).toBe(50);
  });

  it('given two seeds, when each draws an id, then the ids differ', () => {
    expect(new SeededIds(new SeededRandom(1)).uuid()).not.toBe(
      new SeededIds(new SeededRandom(2)).uuid(),
    );
  });

  it('given the production source, when it draws, then it gives version 4 UUIDs', () => {
    expect(new CryptoIds().uuid()).toMatch(UUID_V4);
  });
});
