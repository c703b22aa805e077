import { hostname } from 'node:os';
import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventStore } from '../event-store/event-store.port';
import { Clock } from '../shared/clock';
import { Ids } from '../shared/ids';
import { LeasedPlanner, PlannerStatus } from './leased-planner';
import { NamedLeases } from './named-leases.port';
import { ProcessManagerProjection } from './process-manager.projection';
import { WorkHandlers } from './work-handlers/work-handlers';
import { ClaimedWork, WorkQueue } from './work-queue.port';

/** How long a step that failed unexpectedly waits before it is tried again. */
const RETRY_AFTER_ERROR_MS = 5_000;
/** Payload key counting a step's unexpected failures in a row. */
const STEP_FAILURES = 'stepFailures';

/**
 * Resolves on the event loop's next turn, after it has served its sockets. The global
 * setImmediate, so that a simulation's virtual time drives it.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs the process manager's scheduled work: claims due items under a lease (so any instance
 * can continue a dead one's work once its lease expires), renews the lease while the handler of
 * the item's kind performs the step, and completes or reschedules the item. All state lives in
 * the stores.
 */
@Injectable()
export class ProcessManagerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ProcessManager');
  readonly owner: string;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Feeds the process manager's decisions from `$all` into the work store, on one instance. */
  private readonly planner: LeasedPlanner;

  constructor(
    private readonly workQueue: WorkQueue,
    private readonly handlers: WorkHandlers,
    private readonly projection: ProcessManagerProjection,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    eventStore: EventStore,
    leases: NamedLeases,
    ids: Ids,
  ) {
    this.owner = `${hostname()}:${process.pid}:${ids.uuid().slice(0, 8)}`;
    this.planner = new LeasedPlanner(
      eventStore,
      projection,
      leases,
      clock,
      this.owner,
      config.worker.plannerLeaseMs,
    );
  }

  /** False on an instance in the `api` role: other instances run the process manager. */
  get enabled(): boolean {
    return this.config.role !== 'api';
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    this.running = true;
    this.unsubscribe = this.projection.onScheduled(() => this.wake?.());
    await this.planner.start();
    this.loop = this.run();
  }

  /** Stops claiming, then lets the steps in hand finish so nothing is left half-recorded. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.enabled) return;
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.planner.stop();
  }

  /** The planner's progress through `$all`, its error if it stopped, and whether it runs here. */
  status(): Promise<PlannerStatus> {
    return this.planner.status();
  }

  /**
   * Claimed steps start one event-loop turn apart: a step's store calls are synchronous
   * (SQLite), and hundreds of steps started at once kept the loop from its sockets for seconds,
   * so status checks granted on time left late, together, and readiness probes timed out.
   */
  private async run(): Promise<void> {
    const { leaseMs, pollIntervalMs, concurrency } = this.config.worker;
    while (this.running) {
      try {
        const free = concurrency - this.inFlight.size;
        const claimed =
          free > 0 ? await this.workQueue.claimDue(this.owner, this.now(), leaseMs, free) : [];
        for (const work of claimed) {
          this.track(this.perform(work));
          await nextTurn();
        }
        if (claimed.length === free && free > 0) continue;
        const next = await this.workQueue.nextDueAt();
        const sleep = next === null ? pollIntervalMs : Math.min(pollIntervalMs, next - this.now());
        await this.sleep(Math.max(sleep, 10));
      } catch (error) {
        this.logger.error({ err: error }, 'worker loop error; retrying');
        await this.sleep(pollIntervalMs);
      }
    }
  }

  private track(step: Promise<void>): void {
    this.inFlight.add(step);
    void step.finally(() => {
      this.inFlight.delete(step);
      this.wake?.();
    });
  }

  /** Sleeps until `ms` passes or something calls `wake` (new work, a freed slot, shutdown). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private async perform(work: ClaimedWork): Promise<void> {
    const { leaseMs } = this.config.worker;
    const renewal = setInterval(() => {
      this.workQueue.renewLease(work, this.now(), leaseMs).catch((error: unknown) => {
        this.logger.warn({ err: error, work }, 'lease renewal failed');
      });
    }, leaseMs / 3);
    try {
      const done = await this.handlers.for(work.kind).perform(work);
      if (done === true) await this.workQueue.complete(work);
      else {
        const { [STEP_FAILURES]: previousFailures, ...payload } = done.payload ?? work.payload;
        await this.workQueue.reschedule(work, done.retryAt, payload);
      }
    } catch (error) {
      await this.failed(work, error).catch((recordError: unknown) =>
        this.logger.error(
          { err: recordError },
          'could not record the failure; the lease will expire',
        ),
      );
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * An unexpected error is retried a few times, then the item is parked for support (listed at
   * GET /support/parked-work) instead of failing forever in a loop: a poison item must not eat
   * the provider budget or hide the others.
   */
  private async failed(work: ClaimedWork, error: unknown): Promise<void> {
    const failures = Number(work.payload[STEP_FAILURES] ?? 0) + 1;
    const reason = error instanceof Error ? error.message : String(error);
    if (failures >= this.config.worker.maxStepFailures) {
      this.logger.error(
        { err: error, work, failures },
        'step failed too often; parked for support',
      );
      await this.workQueue.park(work, this.now(), reason);
      return;
    }
    this.logger.error({ err: error, work, failures }, 'step failed; will retry');
    await this.workQueue.reschedule(work, this.now() + RETRY_AFTER_ERROR_MS, {
      ...work.payload,
      [STEP_FAILURES]: failures,
    });
  }
}
