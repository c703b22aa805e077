import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventStore } from '../event-store/event-store.port';
import { PaymentProvider } from '../provider/payment-provider.port';
import { WebhookUrls } from '../provider-webhooks/webhook-urls';
import { Clock } from '../shared/clock';
import { Random } from '../shared/random';
import { CausationContext, TransactionStreams } from '../transactions/transaction-streams';
import { SubmissionResult } from '../transactions/transaction.commands';
import { StatusCheckResult } from '../transactions/transaction.events';
import { ClientNotifier } from './client-notifier';
import { LeasedPlanner, PlannerStatus } from './leased-planner';
import { ProcessManagerProjection } from './process-manager.projection';
import { ClaimedWork, WorkStore } from './work-store.port';

/** How long a step that failed unexpectedly waits before it is tried again. */
const RETRY_AFTER_ERROR_MS = 5_000;
/** Payload key counting a step's unexpected failures in a row. */
const STEP_FAILURES = 'stepFailures';

/**
 * Runs the process manager's scheduled work: claims due items under a lease (so any instance
 * can continue a dead one's work once its lease expires), performs the step, records what
 * happened as events, and completes the item. All state lives in the stores.
 */
@Injectable()
export class ProcessManagerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ProcessManager');
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Feeds the process manager's decisions from `$all` into the work store, on one instance. */
  private readonly planner: LeasedPlanner;

  constructor(
    private readonly workStore: WorkStore,
    private readonly streams: TransactionStreams,
    private readonly provider: PaymentProvider,
    private readonly webhookUrls: WebhookUrls,
    private readonly notifier: ClientNotifier,
    private readonly projection: ProcessManagerProjection,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly config: AppConfig,
    eventStore: EventStore,
  ) {
    this.planner = new LeasedPlanner(
      eventStore,
      projection,
      workStore,
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

  private async run(): Promise<void> {
    const { leaseMs, pollIntervalMs, concurrency } = this.config.worker;
    while (this.running) {
      try {
        const free = concurrency - this.inFlight.size;
        const claimed =
          free > 0 ? await this.workStore.claimDue(this.owner, this.now(), leaseMs, free) : [];
        for (const work of claimed) this.track(this.perform(work));
        if (claimed.length === free && free > 0) continue;
        const next = await this.workStore.nextDueAt();
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
      this.workStore.renewLease(work, this.now(), leaseMs).catch((error: unknown) => {
        this.logger.warn({ err: error, work }, 'lease renewal failed');
      });
    }, leaseMs / 3);
    try {
      const done = await this.step(work);
      if (done === true) await this.workStore.complete(work);
      else {
        const { [STEP_FAILURES]: previousFailures, ...payload } = done.payload ?? work.payload;
        await this.workStore.reschedule(work, done.retryAt, payload);
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
      await this.workStore.park(work, this.now(), reason);
      return;
    }
    this.logger.error({ err: error, work, failures }, 'step failed; will retry');
    await this.workStore.reschedule(work, this.now() + RETRY_AFTER_ERROR_MS, {
      ...work.payload,
      [STEP_FAILURES]: failures,
    });
  }

  private context(work: ClaimedWork): CausationContext {
    const { correlationId, causationId } = work.payload;
    return {
      correlationId: typeof correlationId === 'string' ? correlationId : `work:${work.version}`,
      causationId: typeof causationId === 'string' ? causationId : `work:${work.version}`,
      actor: 'process-manager',
    };
  }

  /** True when the work is done; otherwise when to try again. */
  private async step(
    work: ClaimedWork,
  ): Promise<true | { retryAt: number; payload?: Record<string, unknown> }> {
    switch (work.kind) {
      case 'submit':
        await this.submit(work);
        return true;
      case 'check':
        return this.check(work);
      case 'deadline':
        await this.streams.handle(
          work.transactionId,
          { type: 'ExpireDeadline', at: this.clock.now().toISOString() },
          this.context(work),
        );
        return true;
      case 'notify':
        return this.notify(work);
    }
  }

  /**
   * The intent is recorded first; only the worker whose append won calls the provider, exactly
   * once. A started attempt with no outcome means a worker died mid-call: it is recorded as
   * interrupted (ambiguous) and checked, never POSTed again.
   */
  private async submit(work: ClaimedWork): Promise<void> {
    const attempt = Number(work.payload.attempt);
    const { policy } = this.config.provider;
    const context = this.context(work);
    const start = await this.streams.handle(
      work.transactionId,
      { type: 'StartSubmission', attempt, at: this.clock.now().toISOString(), policy },
      context,
    );
    if (start.events.length === 0) {
      const current = start.state.exists ? start.state.attempts.at(-1) : undefined;
      if (current?.number === attempt && current.outcome === 'in_flight') {
        await this.recordSubmission(work, attempt, {
          kind: 'ambiguous',
          reason: 'interrupted',
          detail: 'the worker making this attempt stopped before recording an answer',
        });
      }
      return;
    }
    const outcome = await this.provider.submit({
      providerId: work.transactionId,
      webhookUrl: this.webhookUrls.urlFor(work.transactionId),
    });
    await this.recordSubmission(work, attempt, outcome);
  }

  private async recordSubmission(
    work: ClaimedWork,
    attempt: number,
    result: SubmissionResult,
  ): Promise<void> {
    await this.streams.handle(
      work.transactionId,
      {
        type: 'RecordSubmissionResult',
        attempt,
        result,
        at: this.clock.now().toISOString(),
        jitter: this.random.next(),
        policy: this.config.provider.policy,
      },
      this.context(work),
    );
  }

  /** One status check, if it is still the planned one and the shared budget allows it now. */
  private async check(work: ClaimedWork): Promise<true | { retryAt: number }> {
    const attempt = Number(work.payload.attempt);
    const checkNumber = Number(work.payload.checkNumber);
    const { state } = await this.streams.load(work.transactionId);
    const planned = state.exists ? state.nextCheck : null;
    if (planned?.attempt !== attempt || planned.checkNumber !== checkNumber) return true;

    const { statusChecks } = this.config.provider;
    const budget = await this.workStore.takeStatusCheck(this.now(), statusChecks);
    if (!budget.granted) return { retryAt: budget.retryAt };

    const outcome = await this.provider.checkStatus(work.transactionId);
    let result: StatusCheckResult;
    let retryAfterMs: number | null = null;
    switch (outcome.kind) {
      case 'found':
        result = outcome.status;
        break;
      case 'not_found':
        result = 'not_found';
        break;
      case 'rate_limited':
        result = 'rate_limited';
        retryAfterMs = outcome.retryAfterMs ?? statusChecks.defaultBackoffMs;
        await this.workStore.slowDown(this.now(), this.now() + retryAfterMs, statusChecks);
        this.logger.warn({ retryAfterMs }, 'provider rate-limited status checks; slowing down');
        break;
      case 'error':
        result = 'error';
        break;
    }
    if (outcome.kind !== 'rate_limited') await this.workStore.recover(this.now(), statusChecks);
    await this.streams.handle(
      work.transactionId,
      {
        type: 'RecordStatusCheck',
        attempt,
        checkNumber,
        result,
        retryAfterMs,
        at: this.clock.now().toISOString(),
        jitter: this.random.next(),
        policy: this.config.provider.policy,
      },
      this.context(work),
    );
    return true;
  }

  private async notify(
    work: ClaimedWork,
  ): Promise<true | { retryAt: number; payload: Record<string, unknown> }> {
    const { state } = await this.streams.load(work.transactionId);
    if (!state.exists || state.status === 'PENDING') return true;
    const delivery = Number(work.payload.delivery);
    const delivered = await this.notifier.deliver(state);
    if (delivered) return true;
    return {
      retryAt: this.now() + this.notifier.backoffMs(delivery, this.random.next()),
      payload: { ...work.payload, delivery: delivery + 1 },
    };
  }
}
