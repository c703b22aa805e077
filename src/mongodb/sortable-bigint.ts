/**
 * Positions and revisions as the MongoDB adapters store them. They are bigints that may exceed
 * 2^64 (the EventStoreDB adapter packs commit and prepare positions into one), beyond what BSON's
 * int64 or double holds exactly, so they are stored as decimal strings padded to one width:
 * strings of equal length and digits only compare in MongoDB's binary (simple collation) string
 * order exactly as the numbers do, so indexes, sorts, range filters and `$max` all work on them.
 */

/** Any value below 10^40 fits: 2^128 has 39 digits. */
export const SORTABLE_DIGITS = 40;

export const MAX_SORTABLE = 10n ** BigInt(SORTABLE_DIGITS) - 1n;

const ENCODED = new RegExp(`^[0-9]{${SORTABLE_DIGITS}}$`);

/** Rejects what would not sort right (negative, or wider) instead of storing it. */
export function toSortableString(value: bigint): string {
  if (value < 0n || value > MAX_SORTABLE) {
    throw new RangeError(
      `a stored position or revision must be between 0 and 10^${SORTABLE_DIGITS} - 1, got ${value}`,
    );
  }
  return value.toString().padStart(SORTABLE_DIGITS, '0');
}

export function fromSortableString(encoded: string): bigint {
  if (!ENCODED.test(encoded)) {
    throw new Error(
      `a stored position or revision must be ${SORTABLE_DIGITS} digits, got ${encoded}`,
    );
  }
  return BigInt(encoded);
}

/**
 * The filter condition "stored value < bound" for any bigint bound, or null when no storable
 * value is below it. A query's cursor is any bigint, not only a storable one: a bound past the
 * storable range becomes an inclusive bound on the largest storable value.
 */
export function sortableBelow(bound: bigint): { $lt: string } | { $lte: string } | null {
  if (bound <= 0n) return null;
  if (bound > MAX_SORTABLE) return { $lte: toSortableString(MAX_SORTABLE) };
  return { $lt: toSortableString(bound) };
}

/** The filter condition "stored value > bound" for any bigint bound, or null when none is. */
export function sortableAbove(bound: bigint): { $gt: string } | { $gte: string } | null {
  if (bound >= MAX_SORTABLE) return null;
  if (bound < 0n) return { $gte: toSortableString(0n) };
  return { $gt: toSortableString(bound) };
}
