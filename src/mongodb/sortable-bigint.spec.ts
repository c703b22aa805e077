import fc from 'fast-check';
import {
  fromSortableString,
  MAX_SORTABLE,
  SORTABLE_DIGITS,
  sortableAbove,
  sortableBelow,
  toSortableString,
} from './sortable-bigint';

const storable = fc.bigInt({ min: 0n, max: MAX_SORTABLE });
/** Bounds from well outside the storable range on both sides, edges included. */
const anyBound = fc.oneof(
  fc.bigInt({ min: -(2n ** 140n), max: 2n ** 140n }),
  fc.constantFrom(-1n, 0n, 1n, MAX_SORTABLE - 1n, MAX_SORTABLE, MAX_SORTABLE + 1n),
);

/** MongoDB compares strings by their bytes (simple collation); for ASCII digits JS does the same. */
function satisfies(
  encoded: string,
  condition: { $lt?: string; $lte?: string; $gt?: string; $gte?: string },
): boolean {
  return (
    (condition.$lt === undefined || encoded < condition.$lt) &&
    (condition.$lte === undefined || encoded <= condition.$lte) &&
    (condition.$gt === undefined || encoded > condition.$gt) &&
    (condition.$gte === undefined || encoded >= condition.$gte)
  );
}

describe('sortable strings for positions and revisions', () => {
  it('round-trips every storable value exactly', () => {
    fc.assert(
      fc.property(storable, (value) => {
        expect(fromSortableString(toSortableString(value))).toBe(value);
      }),
    );
  });

  it('orders as strings exactly as the numbers order', () => {
    fc.assert(
      fc.property(storable, storable, (a, b) => {
        const [left, right] = [toSortableString(a), toSortableString(b)];
        expect(left < right).toBe(a < b);
        expect(left === right).toBe(a === b);
      }),
    );
  });

  it('always has the same width, so no shorter string sorts wrong', () => {
    fc.assert(
      fc.property(storable, (value) => {
        expect(toSortableString(value)).toHaveLength(SORTABLE_DIGITS);
      }),
    );
  });

  it('keeps values beyond 2^53 and 2^64 apart that a JS number would merge', () => {
    const values = [2n ** 53n, 2n ** 53n + 1n, 2n ** 64n, 2n ** 64n + 1n, 2n ** 128n - 1n];
    const encoded = values.map(toSortableString);
    expect(new Set(encoded).size).toBe(values.length);
    expect([...encoded].sort()).toStrictEqual(encoded);
    expect(encoded.map(fromSortableString)).toStrictEqual(values);
  });

  it('rejects a negative value with a RangeError rather than store it out of order', () => {
    fc.assert(
      fc.property(fc.bigInt({ max: -1n }), (value) => {
        expect(() => toSortableString(value)).toThrow(RangeError);
      }),
    );
  });

  it('rejects a value wider than the stored width with a RangeError', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MAX_SORTABLE + 1n, max: MAX_SORTABLE * 10n }), (value) => {
        expect(() => toSortableString(value)).toThrow(RangeError);
      }),
    );
  });

  it.each(['', '42', `-${'0'.repeat(SORTABLE_DIGITS - 1)}`, `${'0'.repeat(SORTABLE_DIGITS - 1)}x`])(
    'refuses to read %p as a stored value',
    (text) => {
      expect(() => fromSortableString(text)).toThrow(/digits/);
    },
  );

  it('turns "below the bound" into a condition that holds exactly for smaller values', () => {
    fc.assert(
      fc.property(storable, anyBound, (value, bound) => {
        const condition = sortableBelow(bound);
        const holds = condition !== null && satisfies(toSortableString(value), condition);
        expect(holds).toBe(value < bound);
      }),
    );
  });

  it('turns "above the bound" into a condition that holds exactly for larger values', () => {
    fc.assert(
      fc.property(storable, anyBound, (value, bound) => {
        const condition = sortableAbove(bound);
        const holds = condition !== null && satisfies(toSortableString(value), condition);
        expect(holds).toBe(value > bound);
      }),
    );
  });

  it('has no condition when nothing storable can be below or above the bound', () => {
    expect(sortableBelow(0n)).toBeNull();
    expect(sortableBelow(-5n)).toBeNull();
    expect(sortableAbove(MAX_SORTABLE)).toBeNull();
    expect(sortableAbove(MAX_SORTABLE + 1n)).toBeNull();
  });
});
