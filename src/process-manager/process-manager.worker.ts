import { hostname } from 'node:os';
import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventStore } from '../event-store/event-store.port';
import {
  BudgetedStatusCheck,
  StatusCheckGrant,
} from '../provider/status-checks/budgeted-status-check';
import { Clock } from '../shared/clock';
import { Ids } from '../shared/ids';
import { LeasedPlanner, PlannerStatus } from './leased-planner';
import { NamedLeases } from './named-leases.port';
import { ProcessManagerProjection } from './process-manager.projection';
import { WorkHandlers } from './work-handlers/work-handlers';
import { ClaimedWork, WORK_KINDS, WorkBacklog, WorkKind, WorkQueue } from './work-queue.port';

/** How long a step that failed unexpectedly waits before it is tried again. */
const RETRY_AFTER_ERROR_MS = 5_000;
/** Payload key counting a step's unexpected failures in a row. */
const STEP_FAILURES = 'stepFailures';
/** Claimed as slots allow; status checks are claimed one per token of the shared budget. */
const UNBUDGETED: readonly WorkKind[] = WORK_KINDS.filter((kind) => kind !== 'check');
const CHECKS: readonly WorkKind[] = ['check'];

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
 *
 * Status checks are claimed only with a token of the budget every instance shares, one per
 * token, oldest first: a backlog of due checks costs nothing while it waits, and the rest of the
 * work (submissions first of all) never waits behind it.
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
    private readonly statusChecks: BudgetedStatusCheck,
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

  /** The shared work store's backlog now, whichever instances run the work. */
  backlog(): Promise<WorkBacklog> {
    return this.workQueue.backlog(this.now());
  }

  private async run(): Promise<void> {
    const { pollIntervalMs } = this.config.worker;
    while (this.running) {
      try {
        const next = await this.startDueWork();
        const sleep = next === null ? pollIntervalMs : Math.min(pollIntervalMs, next - this.now());
        await this.sleep(Math.max(sleep, 10));
      } catch (error) {
        this.logger.error({ err: error }, 'worker loop error; retrying');
        await this.sleep(pollIntervalMs);
      }
    }
  }

  /**
   * Starts the due work that free slots allow, status checks last; returns when something may
   * next be startable (null: only a freed slot or the poll interval will tell).
   */
  private async startDueWork(): Promise<number | null> {
    const { leaseMs, concurrency } = this.config.worker;
    const now = this.now();
    const free = concurrency - this.inFlight.size;
    if (free <= 0) return null;
    const claimed = await this.workQueue.claimDue(this.owner, now, leaseMs, free, UNBUDGETED);
    // Claimed steps start one event-loop turn apart: a step's store calls are synchronous
    // (SQLite), and hundreds of steps started at once kept the loop from its sockets for seconds,
    // so status checks granted on time left late, together, and readiness probes timed out.
    for (const work of claimed) {
      this.track(this.perform(work));
      await nextTurn();
    }
    // Slots are full: a finishing step wakes the loop.
    if (claimed.length === free) return null;
    const checkAt = await this.startCheck(now);
    const otherAt = await this.workQueue.nextDueAt(UNBUDGETED);
    const times = [checkAt, otherAt].filter((time) => time !== null);
    return times.length > 0 ? Math.min(...times) : null;
  }

  /**
   * Starts the oldest due status check if the shared budget grants a token now; returns when to
   * try again (null: no check is waiting). The token is taken before the claim, so a check is
   * claimed only to be sent, and checks leave oldest first at the budget's pace. A token goes
   * unused when the check turns out settled or another instance claimed it meanwhile: that only
   * slows checks down.
   */
  private async startCheck(now: number): Promise<number | null> {
    const dueAt = await this.workQueue.nextDueAt(CHECKS);
    if (dueAt === null || dueAt > now) return dueAt;
    const taken = await this.statusChecks.take();
    if (!taken.granted) return taken.retryAt;
    const { leaseMs } = this.config.worker;
    const [check] = await this.workQueue.claimDue(this.owner, now, leaseMs, 1, CHECKS);
    if (check !== undefined) this.track(this.perform(check, taken.grant));
    // The bucket holds one token: asked again, it says when the next one comes.
    return now;
  }

  private track(step: Promise<void>): void {
    this.inFlight.add(step);
    void step.finally(() => {
      this.inFlight.delete(step);
      this.wake?.();
    });
  }

  /**
   * Sleeps until `ms` passes or something calls `wake` (new work, a freed slot, shutdown). Even a
   * wake resumes after pending I/O and timers (setImmediate): steps that finish without I/O must
   * not keep the event loop from serving requests.
   */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        setImmediate(resolve);
      };
    });
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private async perform(work: ClaimedWork, grant?: StatusCheckGrant): Promise<void> {
    const { leaseMs } = this.config.worker;
    const renewal = setInterval(() => {
      this.workQueue.renewLease(work, this.now(), leaseMs).catch((error: unknown) => {
        this.logger.warn({ err: error, work }, 'lease renewal failed');
      });
    }, leaseMs / 3);
    try {
      const done = await this.handlers.for(work.kind).perform(work, grant);
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
