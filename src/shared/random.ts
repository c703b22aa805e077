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
