import { Clock } from '../shared/clock';
import { Random } from '../shared/random';
import { FaultCounts, FaultPlan } from './fault-plan';
import { SimulationTrace } from './simulation-trace';
import { pause } from './virtual-time';

/** A store call refused by an injected fault: the caller sees an ordinary store error. */
export class InjectedStoreFault extends Error {
  constructor(operation: string, outcome: 'not applied' | 'outcome unknown') {
    super(`injected store fault on ${operation} (${outcome})`);
    this.name = 'InjectedStoreFault';
  }
}

/** Per store call; low, since a step that fails five times in a row is parked for support. */
const FAIL_CHANCE = 0.01;
const UNKNOWN_CHANCE = 0.01;
const CONFLICT_CHANCE = 0.02;
const SLOW_CHANCE = 0.01;
/** A slow call waits up to this long: past the work lease (15 s) and the planner's (10 s). */
const SLOWEST_CALL_MS = 25_000;
/** Per POST to the provider: the node stalls after recording its intent, before the call leaves. */
const SEND_STALL_CHANCE = 0.1;

/** Never settles: what every call of a crashed node gets, so its loops stop where they are. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** How long a node stalled before a POST stays stopped, in virtual ms. */
export interface StallRange {
  min: number;
  max: number;
}

/** What a wrapped call may suffer besides a crash. */
export interface CallFaults {
  /** Store writes: fail before or after applying (unknown outcome). */
  write?: boolean;
  /** Appends with an expected revision: a spurious conflict. */
  conflict?: () => Error;
  /** A slow call (virtual delay before it reaches the store). */
  slow?: boolean;
}

/**
 * One simulated instance's fate: every call it makes to a shared store passes through here, so
 * faults land at whatever await point the node happens to be. A crash is armed for a moment and
 * strikes at the node's next call: from then on every call of the node never settles, so its
 * loops stop where they stand without releasing anything, and its in-memory state dies with it.
 */
export class NodeFaults {
  private crashed = false;
  private crashArmed = false;
  private readonly onCrash: (() => void)[] = [];
  /** Until then the node is stopped (a long GC pause, a frozen VM): each call waits for it. */
  private stalledUntil = 0;

  constructor(
    readonly name: string,
    private readonly plan: FaultPlan,
    private readonly random: Random,
    private readonly counts: FaultCounts,
    private readonly trace: SimulationTrace,
    private readonly clock: Clock,
    private readonly sendStall: StallRange,
  ) {}

  get alive(): boolean {
    return !this.crashed;
  }

  /** Alive and stopped for now: what it does when it resumes is still to come. */
  get stalled(): boolean {
    return !this.crashed && this.now() < this.stalledUntil;
  }

  /**
   * Just before a POST leaves the node (its intent, ProviderSubmissionStarted, already
   * recorded): the node may stall there, past its work lease (its renewals stall too, so another
   * node takes the work over) and past the attempt's send deadline; then the POST goes on.
   * Between two stalls the node runs at least as long as the longest stall: the POSTs held by
   * one stall all leave as it ends, and each drawing a stall of its own chained them, so a busy
   * node stayed stopped for the rest of the run (seed 36, 200 transactions: both nodes, 15 min).
   */
  async beforeSend(): Promise<void> {
    if (
      this.plan.has('send-stall') &&
      this.random.next() < SEND_STALL_CHANCE &&
      this.now() >= this.stalledUntil + this.sendStall.max
    ) {
      const { min, max } = this.sendStall;
      const ms = min + Math.floor(this.random.next() * (max - min));
      this.counts.count('send-stall');
      this.trace.note(this.name, `stalls ${ms} ms before a POST leaves`);
      this.stalledUntil = Math.max(this.stalledUntil, this.now() + ms);
    }
    await this.running();
  }

  /** Resolves once the node is not stalled; never, if it is dead. */
  async running(): Promise<void> {
    while (this.stalled) await pause(this.stalledUntil - this.now());
    if (this.crashed) return never();
  }

  /** The node dies at its next store call. */
  armCrash(): void {
    this.crashArmed = true;
  }

  /** Stops the node now (a crash between two calls, or the end of a run). */
  crash(reason: string): void {
    if (this.crashed) return;
    this.crashed = true;
    this.trace.note(this.name, `crashed ${reason}`);
    for (const listener of this.onCrash) listener();
  }

  whenCrashed(listener: () => void): void {
    this.onCrash.push(listener);
  }

  async call<T>(operation: string, perform: () => Promise<T>, faults: CallFaults = {}): Promise<T> {
    if (this.stalled) await this.running();
    if (this.crashed) return never();
    if (this.crashArmed) {
      this.counts.count('crash');
      this.crash(`before ${operation}`);
      return never();
    }
    if (faults.slow && this.plan.has('store-slow') && this.random.next() < SLOW_CHANCE) {
      const ms = Math.floor(this.random.next() * SLOWEST_CALL_MS);
      this.counts.count('store-slow');
      this.trace.note(this.name, `slow ${operation} by ${ms} ms`);
      await pause(ms);
      if (this.crashed) return never();
    }
    if (faults.write && this.plan.has('append-fail') && this.random.next() < FAIL_CHANCE) {
      this.counts.count('append-fail');
      this.trace.note(this.name, `fail ${operation} before applying`);
      throw new InjectedStoreFault(operation, 'not applied');
    }
    if (
      faults.conflict &&
      this.plan.has('append-conflict') &&
      this.random.next() < CONFLICT_CHANCE
    ) {
      this.counts.count('append-conflict');
      this.trace.note(this.name, `spurious conflict on ${operation}`);
      throw faults.conflict();
    }
    const unknownOutcome =
      faults.write === true &&
      this.plan.has('append-unknown') &&
      this.random.next() < UNKNOWN_CHANCE;
    const result = await perform();
    if (this.crashed) return never();
    if (this.crashArmed) {
      this.counts.count('crash');
      this.crash(`after ${operation} applied`);
      return never();
    }
    if (unknownOutcome) {
      this.counts.count('append-unknown');
      this.trace.note(this.name, `fail ${operation} after applying (outcome unknown)`);
      throw new InjectedStoreFault(operation, 'outcome unknown');
    }
    return result;
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
