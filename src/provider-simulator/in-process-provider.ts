/**
 * The reference provider's protocol in the same process, on the injected clock: for the
 * deterministic simulation and fast tests, never a product default (no module, no config option).
 *
 * Time: it reads the time from the injected Clock and waits with the global setTimeout, so under
 * fake timers (the simulation's virtual clock) every delay is virtual. Randomness comes from the
 * injected Random alone, so the same draws and the same calls in the same order give the same
 * answers. It shares the HTTP simulator's pure parts: outcome drawing, records, the status budget
 * and the ground truth.
 */
import type { Clock } from '../shared/clock';
import type { Random } from '../shared/random';
import {
  PaymentProvider,
  StatusCheckOutcome,
  Submission,
  SubmissionOutcome,
} from '../provider/payment-provider.port';
import {
  isWithin,
  MsRange,
  noFaultsCounted,
  ProviderFaultClass,
  ProviderFaultCounts,
  ProviderFaultPlan,
} from './fault-plan';
import type { SubmissionTruth } from './ground-truth';
import {
  InProcessGroundTruth,
  InProcessTruthRecorder,
  SubmissionAnswerTruth,
} from './in-process-truth';
import { answeredAfter, drawOutcome, Outcome, PlannedWebhook, scriptedOutcome } from './outcome';
import type { SimulatorScript } from './provider-simulator';
import {
  FinalStatus,
  ForcedOutcome,
  ProviderSimulatorOptions,
  ProviderStatus,
  resolveSimulatorOptions,
  WebhookBehaviour,
} from './provider-simulator.options';
import { ProviderRecords } from './provider-records';
import { StatusCheckBudget, wholeSecondsUntil } from './status-budget';

/** Hands a webhook to the receiver (the service's real handling); resolves to its HTTP status. */
export type WebhookDelivery = (
  webhookUrl: string,
  body: { id: string; status: FinalStatus },
) => Promise<number>;

/** The reference protocol's settings the in-process provider honours. */
export type InProcessProtocol = Pick<
  ProviderSimulatorOptions,
  | 'p504'
  | 'lateAppearanceShare'
  | 'completedShare'
  | 'webhookShare'
  | 'responseDelaySeconds'
  | 'timeoutDelaySeconds'
  | 'lateAppearanceSeconds'
  | 'webhookDelaySeconds'
  | 'statusBudget'
  | 'forceOutcomes'
  | 'webhookBehaviour'
>;

export type InProcessProviderOptions = {
  clock: Clock;
  random: Random;
  deliver: WebhookDelivery;
  /** Ours (config.provider.submitTimeoutMs): a later answer is `ambiguous timeout` at that time. */
  submitTimeoutMs: number;
  /** The empty plan (the default) is the reference mix. */
  faultPlan?: ProviderFaultPlan;
  /** Overrides of the reference protocol (docs/design.md); the reference's own by default. */
  protocol?: Partial<InProcessProtocol>;
  /** The run's seed, reported in the truth for a replay; randomness comes from `random`. */
  seed?: number;
  /** How long a status check's answer (and a refused connection) takes to come back. */
  networkDelayMs?: MsRange;
};

/** Whom the status budget counts: every instance of the service calls from one place. */
const CALLER = 'in-process';

/** How long a held-back webhook waits for another one to overtake it before going anyway. */
const LONGEST_HOLD_MS = 60_000;

type PendingAnswer = { settle: (outcome: SubmissionOutcome) => void };

type HeldWebhook = { id: string; submission: SubmissionTruth; status: FinalStatus; copy: number };

export class InProcessProvider extends PaymentProvider {
  private readonly protocol: InProcessProtocol;
  private readonly plan: ProviderFaultPlan;
  private readonly networkDelayMs: MsRange;
  private readonly startedAtMs: number;
  private readonly records = new ProviderRecords();
  private readonly truthRecorder: InProcessTruthRecorder;
  private readonly budget: StatusCheckBudget | null;
  private readonly faults = noFaultsCounted();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly pendingAnswers = new Set<PendingAnswer>();
  // Maps, not records: an id such as "__proto__" must stay plain data.
  private readonly forceOutcomes: Map<string, ForcedOutcome | ForcedOutcome[]>;
  private readonly webhookBehaviour: Map<string, WebhookBehaviour>;
  private heldWebhooks: HeldWebhook[] = [];
  private messages = 0;
  private closed = false;

  constructor(private readonly options: InProcessProviderOptions) {
    super();
    this.protocol = resolveSimulatorOptions(options.protocol ?? {});
    this.plan = structuredClone(options.faultPlan ?? {});
    this.networkDelayMs = options.networkDelayMs ?? { min: 1, max: 50 };
    this.startedAtMs = options.clock.now().getTime();
    this.truthRecorder = new InProcessTruthRecorder(options.seed ?? 0);
    this.budget = this.protocol.statusBudget && new StatusCheckBudget(this.protocol.statusBudget);
    this.forceOutcomes = new Map(Object.entries(this.protocol.forceOutcomes));
    this.webhookBehaviour = new Map(Object.entries(this.protocol.webhookBehaviour));
  }

  /** Adds to the script, as the HTTP simulator's `script`: an id's new entry replaces its old one. */
  script(update: Partial<SimulatorScript>): void {
    for (const [id, outcome] of Object.entries(update.forceOutcomes ?? {})) {
      this.forceOutcomes.set(id, outcome);
    }
    for (const [id, behaviour] of Object.entries(update.webhookBehaviour ?? {})) {
      this.webhookBehaviour.set(id, behaviour);
    }
  }

  submit({ providerId: id, webhookUrl, sendBy }: Submission): Promise<SubmissionOutcome> {
    const sentAtSeconds = this.nowSeconds();
    if (this.closed) return Promise.resolve(closedAnswer);
    // As the HTTP adapter: a POST whose send deadline has passed never leaves.
    if (this.options.clock.now().getTime() > sendBy) {
      return Promise.resolve({
        kind: 'ambiguous',
        reason: 'connection',
        detail: 'not sent: the send deadline passed before the request left',
      });
    }
    if (isWithin(this.plan.outages?.windows, this.nowMs())) {
      this.faults.outages += 1;
      const answer = this.truthRecorder.recordAnswer(id, {
        attempt: null,
        sentAtSeconds,
        faults: ['outages'],
      });
      return this.answerAfter(this.networkDelay(), answer, {
        kind: 'ambiguous',
        reason: 'connection',
        detail: 'provider unreachable (simulated outage)',
      });
    }
    const attempt = this.truthRecorder.received.submissionsOf(id) + 1;
    const script = {
      outcome: scriptedOutcome(this.forceOutcomes.get(id), attempt),
      webhook: this.webhookBehaviour.get(id),
    };
    const faults: ProviderFaultClass[] = [];
    const outcome = this.withFaults(
      drawOutcome(() => this.options.random.next(), this.outcomeOptions(faults), script),
      faults,
    );
    const submission = this.truthRecorder.received.recordSubmission(id, {
      attempt,
      receivedAtSeconds: sentAtSeconds,
      webhookUrl,
      scripted: script.outcome !== undefined || script.webhook !== undefined,
      outcome,
    });
    const answer = this.truthRecorder.recordAnswer(id, { attempt, sentAtSeconds, faults });
    const answered = this.awaitAnswer(answer);
    switch (outcome.kind) {
      case 'ok':
        this.writeRecord(id, submission, 'pending');
        this.after(outcome.responseDelaySeconds * 1000, () => {
          this.writeRecord(id, submission, outcome.status);
          this.respond(submission, 200, answered.settle, { kind: 'final', status: outcome.status });
        });
        if (outcome.webhook) this.scheduleWebhook(id, submission, outcome.webhook, faults);
        break;
      case 'late':
        this.after(outcome.appearsAfterSeconds * 1000, () =>
          this.writeRecord(id, submission, outcome.status),
        );
        this.respond504After(outcome, submission, answered.settle);
        break;
      case 'lost':
        this.respond504After(outcome, submission, answered.settle);
        break;
    }
    // An answer due after our timeout is never seen: our side gives up while the provider goes on.
    if (outcome.responseDelaySeconds * 1000 > this.options.submitTimeoutMs) {
      this.after(this.options.submitTimeoutMs, () =>
        answered.settle({
          kind: 'ambiguous',
          reason: 'timeout',
          detail: `no answer within ${this.options.submitTimeoutMs} ms`,
        }),
      );
    }
    return answered.promise;
  }

  checkStatus(id: string, sendBy: number): Promise<StatusCheckOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'error', detail: 'provider closed' });
    // As the HTTP adapter: a check whose send deadline has passed never leaves.
    if (this.options.clock.now().getTime() > sendBy) return Promise.resolve({ kind: 'not_sent' });
    const nowMs = this.nowMs();
    const atSeconds = this.nowSeconds();
    const outcome = this.statusCheckOutcome(id, nowMs, atSeconds);
    this.truthRecorder.recordCheck(id, {
      atSeconds,
      // Only an outage answers `error`: such a check never reached the provider.
      received: outcome.kind !== 'error',
      outcome,
    });
    return new Promise((resolve) => this.after(this.networkDelay(), () => resolve(outcome)));
  }

  /** Stops every scheduled record, answer and webhook; submits still waiting answer at once. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const pending of [...this.pendingAnswers]) pending.settle(closedAnswer);
  }

  truth(): InProcessGroundTruth {
    return this.truthRecorder.snapshot(this.nowSeconds(), {
      startedAtMs: this.startedAtMs,
      faultPlan: this.plan,
      faults: this.faultCounts(),
      recordOf: (id) => {
        const record = this.records.read(id);
        return record
          ? {
              status: record.status,
              writtenByAttempt: record.writtenByAttempt,
              visibleAtSeconds: record.visibleAtSeconds,
            }
          : null;
      },
    });
  }

  /** How many POSTs of `id` the provider has received so far (not the ones it never saw). */
  submissionsReceived(id: string): number {
    return this.truthRecorder.received.submissionsOf(id);
  }

  /** Nothing left to do: no answer, record, or webhook scheduled, none held back. */
  idle(): boolean {
    return (
      this.timers.size === 0 && this.pendingAnswers.size === 0 && this.heldWebhooks.length === 0
    );
  }

  faultCounts(): ProviderFaultCounts {
    return { ...this.faults };
  }

  private statusCheckOutcome(id: string, nowMs: number, atSeconds: number): StatusCheckOutcome {
    if (isWithin(this.plan.outages?.windows, nowMs)) {
      this.faults.outages += 1;
      return { kind: 'error', detail: 'provider unreachable (simulated outage)' };
    }
    const received = this.truthRecorder.received;
    const storm = this.plan.rateLimitStorms?.storms.find((window) => isWithin([window], nowMs));
    if (storm) {
      this.faults.rateLimitStorms += 1;
      received.recordStatusCheck(id, CALLER, atSeconds, 'rejected', false);
      const { retryAfterSeconds } = storm;
      return {
        kind: 'rate_limited',
        retryAfterMs: retryAfterSeconds === null ? null : retryAfterSeconds * 1000,
      };
    }
    const decision = this.budget?.decide(CALLER, atSeconds) ?? { admitted: true };
    if (!decision.admitted) {
      received.recordStatusCheck(id, CALLER, atSeconds, 'rejected', decision.banStarted);
      return {
        kind: 'rate_limited',
        retryAfterMs: wholeSecondsUntil(decision.retryAfterSeconds) * 1000,
      };
    }
    const record = this.records.read(id);
    received.recordStatusCheck(id, CALLER, atSeconds, record ? 'found' : 'notFound', false);
    return record ? { kind: 'found', status: record.status } : { kind: 'not_found' };
  }

  /** The reference shares, with the windows and shares of the plan that apply at this POST. */
  private outcomeOptions(faults: ProviderFaultClass[]): InProcessProtocol {
    const inGatewayTimeout = isWithin(this.plan.gatewayTimeouts?.windows, this.nowMs());
    if (inGatewayTimeout) this.inject('gatewayTimeouts', faults);
    const lost = this.plan.lostTransactions;
    return {
      ...this.protocol,
      p504: inGatewayTimeout ? 1 : this.protocol.p504,
      lateAppearanceShare: lost ? 1 - lost.lostShare : this.protocol.lateAppearanceShare,
    };
  }

  /** Applies the plan's per-POST faults to a drawn outcome, noting them in `faults`. */
  private withFaults(outcome: Outcome, faults: ProviderFaultClass[]): Outcome {
    const { slowAnswers, lostTransactions } = this.plan;
    // Counted on every lost POST while the class is on: which of them the higher share made lost
    // cannot be told apart.
    if (outcome.kind === 'lost' && lostTransactions) this.inject('lostTransactions', faults);
    if (!slowAnswers) return outcome;
    const slow = this.options.random.next() < slowAnswers.share;
    const extraMs = this.within(slowAnswers.extraMs);
    if (outcome.kind !== 'ok' || !slow) return outcome;
    this.inject('slowAnswers', faults);
    return answeredAfter(outcome, (this.options.submitTimeoutMs + extraMs) / 1000);
  }

  /** Counts one injection of `name` and notes it among the faults that shaped this POST. */
  private inject(name: ProviderFaultClass, faults: ProviderFaultClass[]): void {
    this.faults[name] += 1;
    faults.push(name);
  }

  private respond504After(
    outcome: Outcome,
    submission: SubmissionTruth,
    settle: PendingAnswer['settle'],
  ): void {
    this.after(outcome.responseDelaySeconds * 1000, () =>
      this.respond(submission, 504, settle, {
        kind: 'ambiguous',
        reason: 'gateway_timeout',
        detail: 'provider answered 504',
      }),
    );
  }

  private respond(
    submission: SubmissionTruth,
    statusCode: 200 | 504,
    settle: PendingAnswer['settle'],
    outcome: SubmissionOutcome,
  ): void {
    submission.respondedAtSeconds = this.nowSeconds();
    submission.responseStatusCode = statusCode;
    settle(outcome);
  }

  /** The answer our side sees: the first of the provider's answer and our own timeout. */
  private awaitAnswer(answer: SubmissionAnswerTruth): {
    promise: Promise<SubmissionOutcome>;
    settle: PendingAnswer['settle'];
  } {
    let resolvePromise!: (outcome: SubmissionOutcome) => void;
    const promise = new Promise<SubmissionOutcome>((resolve) => (resolvePromise = resolve));
    const pending: PendingAnswer = {
      settle: (outcome) => {
        if (!this.pendingAnswers.delete(pending)) return;
        answer.answeredAtSeconds = this.nowSeconds();
        answer.outcome = outcome;
        resolvePromise(outcome);
      },
    };
    this.pendingAnswers.add(pending);
    return { promise, settle: pending.settle };
  }

  private answerAfter(
    delayMs: number,
    answer: SubmissionAnswerTruth,
    outcome: SubmissionOutcome,
  ): Promise<SubmissionOutcome> {
    const answered = this.awaitAnswer(answer);
    this.after(delayMs, () => answered.settle(outcome));
    return answered.promise;
  }

  private writeRecord(id: string, submission: SubmissionTruth, status: ProviderStatus): void {
    this.records.write(id, submission, status, this.nowSeconds());
  }

  private scheduleWebhook(
    id: string,
    submission: SubmissionTruth,
    plan: PlannedWebhook,
    faults: ProviderFaultClass[],
  ): void {
    const { duplicateWebhooks, reorderedWebhooks, lateWebhooks, contradictingWebhooks } = this.plan;
    const random = this.options.random;
    const duplicated = duplicateWebhooks && random.next() < duplicateWebhooks.share;
    const gapMs = duplicateWebhooks ? this.within(duplicateWebhooks.gapMs) : 0;
    const reordered = reorderedWebhooks && random.next() < reorderedWebhooks.share;
    const late = lateWebhooks && random.next() < lateWebhooks.share;
    const lateByMs = lateWebhooks ? this.within(lateWebhooks.extraMs) : 0;
    const contradicting = contradictingWebhooks && random.next() < contradictingWebhooks.share;
    if (duplicated) this.inject('duplicateWebhooks', faults);
    if (reordered) this.inject('reorderedWebhooks', faults);
    if (late) this.inject('lateWebhooks', faults);
    if (contradicting) this.inject('contradictingWebhooks', faults);
    const status = contradicting ? opposite(plan.status) : plan.status;
    const dueMs = plan.delaySeconds * 1000 + (late ? lateByMs : 0);
    const copies = plan.copies + (duplicated ? 1 : 0);
    for (let copy = 1; copy <= copies; copy += 1) {
      const webhook: HeldWebhook = { id, submission, status, copy };
      this.after(dueMs + (copy > plan.copies ? gapMs : 0), () =>
        reordered && this.heldWebhooks.length === 0
          ? this.holdBack(webhook)
          : this.sendWebhook(webhook),
      );
    }
  }

  /**
   * Held until the next webhook due has gone out, so the two arrive in the wrong order (one that
   * comes due while others are held goes at once: it is the one that overtakes them).
   */
  private holdBack(webhook: HeldWebhook): void {
    this.heldWebhooks.push(webhook);
    this.after(LONGEST_HOLD_MS, () => {
      if (!this.heldWebhooks.includes(webhook)) return;
      this.heldWebhooks = this.heldWebhooks.filter((held) => held !== webhook);
      return this.deliverOne(webhook);
    });
  }

  private async sendWebhook(webhook: HeldWebhook): Promise<void> {
    const overtaken = this.heldWebhooks;
    this.heldWebhooks = [];
    await this.deliverOne(webhook);
    for (const held of overtaken) await this.deliverOne(held);
  }

  /** Once, never retried, as the reference; the receiver's answer goes into the truth. */
  private async deliverOne({ id, submission, status, copy }: HeldWebhook): Promise<void> {
    const sentAtSeconds = this.nowSeconds();
    this.messages += 1;
    const messageId = `msg_${this.messages}`;
    let result: { statusCode: number; error: null } | { statusCode: null; error: string };
    try {
      result = {
        statusCode: await this.options.deliver(submission.webhookUrl, { id, status }),
        error: null,
      };
    } catch (error) {
      result = { statusCode: null, error: error instanceof Error ? error.message : String(error) };
    }
    this.truthRecorder.received.recordWebhookDelivery(id, {
      attempt: submission.attempt,
      messageId,
      copy,
      delivery: 1,
      sentAtSeconds,
      status,
      ...result,
    });
  }

  /** Runs `task` after `delayMs` on the global timer (virtual under fake timers) unless closed. */
  private after(delayMs: number, task: () => void | Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void task();
    }, delayMs);
    this.timers.add(timer);
  }

  private networkDelay(): number {
    return this.within(this.networkDelayMs);
  }

  private within(range: MsRange): number {
    return range.min + (range.max - range.min) * this.options.random.next();
  }

  private nowMs(): number {
    return this.options.clock.now().getTime() - this.startedAtMs;
  }

  private nowSeconds(): number {
    return this.nowMs() / 1000;
  }
}

const closedAnswer: SubmissionOutcome = {
  kind: 'ambiguous',
  reason: 'connection',
  detail: 'provider closed',
};

function opposite(status: FinalStatus): FinalStatus {
  return status === 'completed' ? 'declined' : 'completed';
}
