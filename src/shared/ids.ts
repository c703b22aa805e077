import { randomUUID } from 'node:crypto';
import { Random } from './random';

/**
 * Where new ids come from (event ids, a worker's name), as a port, so that a simulation under a
 * fixed seed writes the same ids and its event log replays byte for byte.
 */
export abstract class Ids {
  /** A UUID (version 4 layout). */
  abstract uuid(): string;
}

export class CryptoIds extends Ids {
  uuid(): string {
    return randomUUID();
  }
}

/** Version 4 UUIDs drawn from a seeded source: unique enough for one run, and replayable. */
export class SeededIds extends Ids {
  constructor(private readonly random: Random) {
    super();
  }

  uuid(): string {
    const bytes = Array.from({ length: 16 }, () => Math.floor(this.random.next() * 256));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
