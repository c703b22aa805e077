import fc from 'fast-check';
import type { Position } from './eventstoredb-client';
import { decodePosition, encodePosition, knownPosition } from './eventstoredb-positions';

const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;

const half = fc.bigInt({ min: 0n, max: TWO_64 - 1n });
const position = fc.record({ commit: half, prepare: half });
/** Positions near the edges of the 64-bit halves, where a packing mistake would show first. */
const edge = fc.constantFrom(0n, 1n, TWO_63 - 1n, TWO_63, TWO_64 - 2n, TWO_64 - 1n);
const edgePosition = fc.record({ commit: edge, prepare: edge });
const anyPosition = fc.oneof(position, edgePosition);

function compare(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

describe('EventStoreDB positions', () => {
  describe('encodePosition and decodePosition', () => {
    it('round-trip every pair of 64-bit positions', () => {
      fc.assert(
        fc.property(anyPosition, (pair) => {
          expect(decodePosition(encodePosition(pair))).toEqual(pair);
        }),
      );
    });

    it('round-trip every 128-bit number', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: TWO_64 * TWO_64 - 1n }), (packed) => {
          expect(encodePosition(decodePosition(packed))).toBe(packed);
        }),
      );
    });

    it('order packed positions as $all orders them: by commit, then by prepare', () => {
      fc.assert(
        fc.property(anyPosition, anyPosition, (a, b) => {
          const packedA = encodePosition(a);
          const packedB = encodePosition(b);
          expect(Math.sign(compare(a, b))).toBe(packedA < packedB ? -1 : packedA > packedB ? 1 : 0);
        }),
      );
    });

    it('puts events of one commit together, below every later commit', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: TWO_64 - 2n }), half, half, (commit, p1, p2) => {
          const inCommit = encodePosition({ commit, prepare: p1 });
          const nextCommit = encodePosition({ commit: commit + 1n, prepare: p2 });
          expect(inCommit < nextCommit).toBe(true);
        }),
      );
    });

    it('keeps the largest prepare of a commit just below the next commit', () => {
      const last = encodePosition({ commit: 5n, prepare: TWO_64 - 1n });
      const next = encodePosition({ commit: 6n, prepare: 0n });

      expect(next - last).toBe(1n);
      expect(decodePosition(last)).toEqual({ commit: 5n, prepare: TWO_64 - 1n });
      expect(decodePosition(next)).toEqual({ commit: 6n, prepare: 0n });
    });

    it('encodes a single-event commit, where prepare equals commit', () => {
      expect(encodePosition({ commit: 1234n, prepare: 1234n })).toBe((1234n << 64n) + 1234n);
    });

    it('refuses halves outside [0, 2^64)', () => {
      expect(() => encodePosition({ commit: TWO_64, prepare: 0n })).toThrow(RangeError);
      expect(() => encodePosition({ commit: 0n, prepare: TWO_64 })).toThrow(RangeError);
      expect(() => encodePosition({ commit: -1n, prepare: 0n })).toThrow(RangeError);
      expect(() => encodePosition({ commit: 0n, prepare: -1n })).toThrow(RangeError);
    });

    it('refuses numbers outside [0, 2^128)', () => {
      expect(() => decodePosition(-1n)).toThrow(RangeError);
      expect(() => decodePosition(TWO_64 * TWO_64)).toThrow(RangeError);
    });
  });

  describe('knownPosition', () => {
    it('keeps a real log position', () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 1n, max: TWO_63 - 1n }),
          fc.bigInt({ min: 0n, max: TWO_63 - 1n }),
          (commit, prepare) => {
            expect(knownPosition({ commit, prepare })).toEqual({ commit, prepare });
          },
        ),
      );
    });

    it('treats a missing position, the -1 marker and an empty 0/0 as unknown', () => {
      expect(knownPosition(undefined)).toBeUndefined();
      expect(knownPosition({ commit: TWO_64 - 1n, prepare: TWO_64 - 1n })).toBeUndefined();
      expect(knownPosition({ commit: TWO_64 - 1n, prepare: 42n })).toBeUndefined();
      expect(knownPosition({ commit: 42n, prepare: TWO_64 - 1n })).toBeUndefined();
      expect(knownPosition({ commit: 0n, prepare: 0n })).toBeUndefined();
    });

    it('treats anything beyond a signed 64-bit log position as unknown', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: TWO_63, max: TWO_64 - 1n }), half, (outside, other) => {
          expect(knownPosition({ commit: outside, prepare: other })).toBeUndefined();
          expect(knownPosition({ commit: other, prepare: outside })).toBeUndefined();
        }),
      );
    });
  });
});
