import { Logger } from '@nestjs/common';
import { EventStore } from '../event-store/event-store.port';
import { ProjectionRunner } from '../projections/projection-runner';
import { Clock } from '../shared/clock';
import { ProcessManagerProjection } from './process-manager.projection';
import { StaleCheckpointError } from './checkpointed-schedule.port';
import { NamedLeases } from './named-leases.port';

/** The name of the planner's lease among the named leases. */
export const PLANNER_LEASE = 'process-manager-planner';

export interface PlannerStatus {
  /** Where the planner is in `$all`: its own position when active, the stored one otherwise. */
  checkpoint: bigint;
  error: string | null;
  /** True on the one instance that holds the lease and runs the planner. */
  active: boolean;
}

/**
 * Runs the process manager's planner on one instance at a time. Every instance tries to take the
 * lease a few times per lease period; the holder renews it and runs the planner, the others stand
 * by and take over at most one lease period after the holder dies. A holder that stalls past its
 * lease cannot apply an event twice: the work store refuses a batch it has already applied
 * (StaleCheckpointError), and the stalled planner stands down.
 *
 * Why a lease and not an EventStoreDB persistent subscription: the planner's output is a
 * schedule with durable timers in the work store, whose order and checkpoint must move together;
 * one planner applying `$all` in order keeps that simple, and the work itself (the provider calls)
 * is already spread over every instance by the per-item leases of the work store. The same scheme
 * works on the embedded store, where there are no persistent subscriptions.
 */
export class LeasedPlanner {
  private readonly logger = new Logger('ProcessManager:planner');
  private runner: ProjectionRunner | null = null;
  private failedAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private tick: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly eventStore: EventStore,
    private readonly projection: ProcessManagerProjection,
    private readonly leases: NamedLeases,
    private readonly clock: Clock,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /** Takes the lease now if it is free, then keeps trying or renewing a few times per period. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.schedule();
    this.timer = setInterval(() => void this.schedule(), Math.max(1, Math.floor(this.leaseMs / 3)));
  }

  /** Stops the planner and gives the lease up, so another instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.tick;
    await this.standDown();
    await this.leases.release(PLANNER_LEASE, this.owner).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not release the planner lease; it will expire');
    });
  }

  async status(): Promise<PlannerStatus> {
    if (this.runner) {
      return {
        checkpoint: this.runner.checkpoint,
        error: this.runner.error?.message ?? null,
        active: true,
      };
    }
    return { checkpoint: (await this.projection.checkpoint()) ?? 0n, error: null, active: false };
  }

  /**
   * One step at a time: a slow store must not let two steps start two planners. A step that
   * fails is logged and the next one tries again; the chain itself never rejects.
   */
  private schedule(): Promise<void> {
    this.tick = this.tick
      .then(() => this.step())
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'planner lease step failed; trying again');
      });
    return this.tick;
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    const now = this.clock.now().getTime();
    let held: boolean;
    try {
      held = await this.leases.acquire(PLANNER_LEASE, this.owner, now, this.leaseMs);
    } catch (error) {
      // Unable to renew means unable to prove the lease is still ours.
      this.logger.warn({ err: error }, 'planner lease check failed; standing down');
      held = false;
    }
    if (!held) {
      if (this.runner) this.logger.log('planner lease lost; standing by');
      await this.standDown();
      return;
    }
    const failure = this.runner?.error;
    if (failure) {
      if (failure.cause instanceof StaleCheckpointError) {
        this.logger.warn('another planner applied these events; restarting from the store');
        await this.standDown();
      } else {
        // A failed batch (an event it cannot apply, a store error) is tried again after a lease
        // period; until then the failure stays visible in /health/ready.
        this.failedAt ??= now;
        if (now - this.failedAt < this.leaseMs) return;
        await this.standDown();
      }
    }
    if (!this.runner) {
      this.failedAt = null;
      const runner = new ProjectionRunner(this.eventStore, this.projection);
      // Kept only once started: a start that fails (the store unreachable) is tried next step.
      await runner.start();
      this.runner = runner;
      this.logger.log({ checkpoint: runner.checkpoint.toString() }, 'planner active');
    }
  }

  private async standDown(): Promise<void> {
    const runner = this.runner;
    this.runner = null;
    await runner?.stop();
  }
}
