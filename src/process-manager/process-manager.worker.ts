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
import {
  ClaimedWork,
  WORK_KINDS,
  WorkBacklog,
  WorkKind,
  WorkQueue,
  byClaimOrder,
  claimKeyOf,
} from './work-queue.port';

/** How long a step that failed unexpectedly waits before it is tried again. */
const RETRY_AFTER_ERROR_MS = 5_000;
/** Payload key counting a step's unexpected failures in a row. */
const STEP_FAILURES = 'stepFailures';
/**
 * Submissions have slots of their own (WORKER_SUBMIT_CONCURRENCY): each waits up to 30 s for the
 * provider, and holding the other kinds' slots meanwhile capped submissions at ~50 a second.
 * The other kinds share WORKER_CONCURRENCY; status checks among them are claimed one per token
 * of the shared budget.
 */
const SUBMITS: readonly WorkKind[] = ['submit'];
const OTHERS: readonly WorkKind[] = WORK_KINDS.filter(
  (kind) => kind !== 'check' && kind !== 'submit',
);
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
 * can continue a dead one's work once its lease expires), renews the leases of every step in
 * hand at once while the handlers of the items' kinds perform them, and completes or
 * reschedules each item. All state lives in the stores.
 *
 * Status checks are claimed only with a token of the budget every instance shares, one per
 * token, oldest first: a backlog of due checks costs nothing while it waits, and the rest of the
 * work (submissions first of all) never waits behind it.
 */
@Injectable()
export class ProcessManagerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ProcessManager');
  readonly owner: string;
  /** Every step in hand, by its claim. */
  private readonly inFlight = new Map<ClaimedWork, Promise<void>>();
  private submitsInFlight = 0;
  /** The claims whose lease is still renewed: not lost, and their step not ending. */
  private readonly renewable = new Set<ClaimedWork>();
  private renewal: NodeJS.Timeout | null = null;
  private renewing = false;
  private renewAgain = false;
  /** Set when a stopping worker stops waiting for its steps: their leases are left to expire. */
  private abandoned = false;
  private running = false;
  private stopping: Promise<void> | null = null;
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
    const { leaseMs } = this.config.worker;
    this.renewal = setInterval(() => void this.renewLeases(), leaseMs / 3);
    this.loop = this.run();
  }

  /**
   * Stops claiming, then lets the steps in hand finish for at most half of SHUTDOWN_TIMEOUT_MS
   * by the clock, so that those that can record their result do. Thousands of submissions may wait
   * for the provider (up to 30 s each): the ones still waiting are left to their leases, which
   * are no longer renewed. Their items stay in the store, and whoever claims one after its lease
   * expires continues it (a submission whose POST left is recorded as ambiguous and checked,
   * never sent again).
   */
  beforeApplicationShutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    if (!this.enabled) return;
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    await this.drain();
    if (this.renewal !== null) clearInterval(this.renewal);
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
   * Starts the due work that free slots allow, earliest due first, status checks last; returns
   * when something may next be startable (null: only a freed slot or the poll interval will
   * tell).
   */
  private async startDueWork(): Promise<number | null> {
    const { concurrency, submitConcurrency } = this.config.worker;
    const now = this.now();
    const othersFree = () => concurrency - (this.inFlight.size - this.submitsInFlight);
    const submitFree = submitConcurrency - this.submitsInFlight;
    const submits = await this.claim(SUBMITS, submitFree, now);
    const others = await this.claim(OTHERS, othersFree(), now);
    // Both lanes' claims before any step starts, then in claim order: a deadline due before a
    // submission never waits for that submission's start.
    const claimed = [...submits, ...others].sort(byClaimOrder);
    // Claimed steps start one event-loop turn apart: a step's event-store reads are synchronous
    // (SQLite), and hundreds of steps started at once kept the loop from its sockets for seconds,
    // so status checks granted on time left late, together, and readiness probes timed out.
    for (const work of claimed) {
      this.start(work);
      await nextTurn();
    }
    // A lane whose slots are full is woken by a finishing step.
    const open = [
      ...(submits.length === submitFree ? [] : SUBMITS),
      ...(othersFree() <= 0 ? [] : OTHERS),
    ];
    const times = [
      open.length > 0 ? await this.workQueue.nextDueAt(open) : null,
      othersFree() > 0 ? await this.startCheck(now) : null,
    ].filter((time) => time !== null);
    return times.length > 0 ? Math.min(...times) : null;
  }

  /** Claims up to `free` due items of `kinds` (none when no slot is free). */
  private async claim(
    kinds: readonly WorkKind[],
    free: number,
    now: number,
  ): Promise<ClaimedWork[]> {
    if (free <= 0) return [];
    return this.workQueue.claimDue(this.owner, now, this.config.worker.leaseMs, free, kinds);
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
    if (check !== undefined) this.start(check, taken.grant);
    // The bucket holds one token: asked again, it says when the next one comes.
    return now;
  }

  private start(work: ClaimedWork, grant?: StatusCheckGrant): void {
    const isSubmit = work.kind === 'submit';
    if (isSubmit) this.submitsInFlight += 1;
    this.renewable.add(work);
    const step = this.perform(work, grant).finally(() => {
      this.inFlight.delete(work);
      if (isSubmit) this.submitsInFlight -= 1;
      this.wake?.();
    });
    this.inFlight.set(work, step);
  }

  /**
   * Renews the leases of every step in hand in one store call, every WORKER_LEASE_MS / 3. A lost
   * lease (the item expired and was claimed again, or replaced) is logged and the step goes on:
   * its end is recorded only if its claim is still current, and a provider's final answer is the
   * truth whoever records it. A renewal due while the previous one still runs (a slow store, a
   * paused process) runs once right after it, with the time then: the one that waited extends
   * the leases from the time it started, which may have passed meanwhile.
   */
  private async renewLeases(): Promise<void> {
    if (this.renewing) {
      this.renewAgain = true;
      return;
    }
    this.renewing = true;
    try {
      do {
        this.renewAgain = false;
        await this.renewOnce();
      } while (this.renewAgain);
    } finally {
      this.renewing = false;
    }
  }

  private async renewOnce(): Promise<void> {
    // Given up by a stopping worker: their leases are left to expire.
    if (this.abandoned || this.renewable.size === 0) return;
    const held = [...this.renewable];
    try {
      const { leaseMs } = this.config.worker;
      const lost = await this.workQueue.renewLeases(this.owner, held, this.now(), leaseMs);
      const lostClaims = new Set(lost.map(claimKeyOf));
      for (const work of held.filter((claim) => lostClaims.has(claimKeyOf(claim)))) {
        this.renewable.delete(work);
        this.logger.warn({ work }, 'lease lost while the step runs');
      }
    } catch (error) {
      this.logger.warn({ err: error, steps: held.length }, 'lease renewal failed');
    }
  }

  /**
   * Waits for the steps in hand until none is left or the drain time has passed by the clock;
   * then gives the rest up to lease expiry.
   */
  private async drain(): Promise<void> {
    const { shutdownDrainMs, pollIntervalMs } = this.config.worker;
    const deadline = this.now() + shutdownDrainMs;
    while (this.inFlight.size > 0) {
      const left = deadline - this.now();
      if (left <= 0) {
        this.abandoned = true;
        this.logger.warn(
          { steps: this.inFlight.size, leaseMs: this.config.worker.leaseMs },
          'stopping with steps still in flight; their items are taken again once their leases expire',
        );
        return;
      }
      // A finishing step wakes it; the poll interval bounds how late a moved clock is seen.
      await this.sleep(Math.min(left, pollIntervalMs));
    }
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
    try {
      const done = await this.handlers
        .for(work.kind)
        .perform(work, grant)
        // Its end is being recorded: a renewal now would find the claim gone and call it lost.
        .finally(() => this.renewable.delete(work));
      if (done === true) await this.workQueue.complete(work);
      else {
        const { [STEP_FAILURES]: previousFailures, ...payload } = done.payload ?? work.payload;
        await this.workQueue.reschedule(work, done.retryAt, payload);
      }
    } catch (error) {
      // Given up by a stopping worker (its provider call cut, its stores closing): the lease
      // expiry hands the item on, and this is no failure of the step's own.
      if (this.abandoned) return;
      await this.failed(work, error).catch((recordError: unknown) =>
        this.logger.error(
          { err: recordError },
          'could not record the failure; the lease will expire',
        ),
      );
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
