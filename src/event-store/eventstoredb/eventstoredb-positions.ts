import type { Position } from './eventstoredb-client';

/**
 * EventStoreDB places an event in `$all` by a pair: events appended together share one commit
 * position and differ only in their prepare position (kurrent-io/KurrentDB#2522), and `$all` is
 * ordered by commit, then prepare. The port needs one bigint per event that grows in that order,
 * so the pair is packed into 128 bits, commit above prepare: comparing the packed numbers
 * compares the pairs lexicographically.
 */

const HALF_BITS = 64n;
const HALF_LIMIT = 1n << HALF_BITS;
const PREPARE_MASK = HALF_LIMIT - 1n;
/** Log positions are non-negative signed 64-bit numbers on the server. */
const LOG_POSITION_LIMIT = 1n << 63n;

function assertHalf(name: string, value: bigint): void {
  if (value < 0n || value >= HALF_LIMIT) {
    throw new RangeError(`${name} position must be in [0, 2^64), got ${value}`);
  }
}

export function encodePosition({ commit, prepare }: Position): bigint {
  assertHalf('commit', commit);
  assertHalf('prepare', prepare);
  return (commit << HALF_BITS) | prepare;
}

export function decodePosition(position: bigint): Position {
  if (position < 0n || position >= HALF_LIMIT * HALF_LIMIT) {
    throw new RangeError(`position must be in [0, 2^128), got ${position}`);
  }
  return { commit: position >> HALF_BITS, prepare: position & PREPARE_MASK };
}

/**
 * The position of an event as the server reported it, or undefined when it did not report one.
 * Stream reads before server 22.6 (and events written in explicit transactions) carry 2^64 - 1,
 * which is -1 as the server's signed number (EventStore-Client-Go#88); a message without the
 * fields decodes as 0/0, which no event has: the log starts with the server's own records.
 */
export function knownPosition(position: Position | undefined): Position | undefined {
  if (position === undefined) return undefined;
  const { commit, prepare } = position;
  const isLogPosition = (value: bigint) => value >= 0n && value < LOG_POSITION_LIMIT;
  if (!isLogPosition(commit) || !isLogPosition(prepare)) return undefined;
  if (commit === 0n && prepare === 0n) return undefined;
  return position;
}
