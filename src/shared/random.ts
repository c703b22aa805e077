/** Randomness as a port, so schedules with jitter can be replayed under a fixed seed. */
export abstract class Random {
  /** Uniform in [0, 1). */
  abstract next(): number;
}

export class MathRandom extends Random {
  next(): number {
    return Math.random();
  }
}

/** Deterministic (mulberry32): the same seed gives the same numbers, so a run replays exactly. */
export class SeededRandom extends Random {
  private state: number;

  constructor(seed: number) {
    super();
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
}
