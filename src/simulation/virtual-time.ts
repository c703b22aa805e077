import { install, type Clock as FakeClock } from '@sinonjs/fake-timers';
import { Clock } from '../shared/clock';
import { Random, SeededRandom } from '../shared/random';

/**
 * The real Date, taken before any run fakes it: the fake one's constructor costs several times
 * more, and the clock builds a Date on every reading.
 */
const NativeDate = Date;

/** Where every simulated run starts: a fixed instant, so event logs replay byte for byte. */
export const SIMULATION_EPOCH = Date.parse('2030-01-01T00:00:00.000Z');

/**
 * Virtual time for one run: fake timers over the global setTimeout, setInterval, setImmediate and
 * Date, so the real worker loop, lease timers, projection runners and back-offs wait on it. Time
 * moves only when the run advances it; promise chains settle between two timers.
 */
export class VirtualTime extends Clock {
  private readonly fake: FakeClock;

  constructor() {
    super();
    this.fake = install({
      now: SIMULATION_EPOCH,
      toFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'clearImmediate',
        'Date',
      ],
      loopLimit: 1_000_000,
    });
  }

  now(): Date {
    return new NativeDate(this.fake.now);
  }

  /** Milliseconds since the run began. */
  elapsed(): number {
    return this.fake.now - SIMULATION_EPOCH;
  }

  /** Runs every timer due in the next `ms`, letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    await this.fake.tickAsync(ms);
  }

  /**
   * Awaits `operation` while virtual time passes, a second at a time: a start can wait on a timer
   * (a store call slowed by a fault), and awaiting it with time stopped would wait forever (the
   * process then simply ends, having nothing left to do).
   */
  async whilePassing<T>(operation: Promise<T>): Promise<T> {
    const state: { settled: boolean } = { settled: false };
    const settled = operation.finally(() => {
      state.settled = true;
    });
    // Handled at once, awaited below: a rejection must not count as unhandled meanwhile.
    settled.catch(() => undefined);
    await this.advance(0);
    while (!state.settled) await this.advance(1_000);
    return settled;
  }

  /** A clock jump: time leaps forward, firing what fell due on the way once. */
  jump(ms: number): void {
    this.fake.jump(ms);
  }

  uninstall(): void {
    this.fake.uninstall();
  }
}

/** Resolves after `ms` of virtual time (the global timer, which the run has faked). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An independent source drawn from `random`: each concern of a run gets its own. */
export function fork(random: Random): Random {
  return new SeededRandom(Math.floor(random.next() * 4_294_967_296));
}
