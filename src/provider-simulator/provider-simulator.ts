/**
 * The payment-provider simulator: the reference provider's protocol, exactly, plus what tests
 * need. Plain fastify, so it starts in milliseconds and runs on its own (see main.ts).
 *
 * Protocol (docs/design.md, "The provider protocol"):
 *   POST /transaction {id, webhookUrl}  -> 200 {id, status, webhookUrl} | 504 "Gateway Timeout"
 *   GET  /transaction/:id               -> 200 {id, status, webhookUrl} | 404 (empty body)
 *                                          | 429 {error}, Retry-After, when over the status budget
 *   webhook POST {webhookUrl} {id, status}, optionally signed (Standard Webhooks)
 * For tests:
 *   GET  /_sim/truth, GET /_sim/truth/:id  -> ground truth (all ids, or one id or 404)
 *   POST /_sim/script {forceOutcomes?, webhookBehaviour?} -> the whole script
 *   POST /_sim/faults {periods: [...]}   -> the fault plan now in force (replaces the last one)
 *   GET /_sim/faults, DELETE /_sim/faults -> the plan in force; no faults any more (204)
 *   POST /_sim/reset                       -> 204
 *
 * Time: every delay is in provider seconds and lasts `seconds * timeScale` real seconds. The
 * status budget's window and ban are provider seconds too. Retry-After is the one duration a
 * client reads and waits out in real time, so it is the ban's real length (rounded up): a client
 * configured for the same time scale pauses as long as the ban lasts, not timeScale times longer.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import pino, { Logger } from 'pino';
import { z } from 'zod';
import { GroundTruth, GroundTruthRecorder, SubmissionTruth } from './ground-truth';
import {
  FaultPeriods,
  FaultPeriodsRequest,
  faultPeriodsSchema,
  faultPlanFrom,
  faultsAt,
  SimulatorFaultPlan,
} from './fault-periods';
import {
  answeredAfter,
  drawOutcome,
  Outcome,
  PlannedWebhook,
  scriptedOutcome,
  SubmissionScript,
} from './outcome';
import {
  ForcedOutcome,
  OutcomeScript,
  outcomeScriptSchema,
  ProviderSimulatorOptions,
  ProviderStatus,
  resolveSimulatorOptions,
  WebhookBehaviour,
  WebhookScript,
  webhookScriptSchema,
} from './provider-simulator.options';
import { ProviderRecords } from './provider-records';
import { submissionRandom } from './seeded-random';
import { StatusCheckBudget, wholeSecondsUntil } from './status-budget';
import { isAccepted, WebhookMessage, WebhookSender } from './webhook-sender';

export type ProviderSimulatorStartOptions = Partial<ProviderSimulatorOptions> & {
  /** 0 (the default) takes any free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Told about bans and failed webhook deliveries (warn) and each POST (debug); silent if absent. */
  logger?: Logger;
};

export type SimulatorScript = { forceOutcomes: OutcomeScript; webhookBehaviour: WebhookScript };

/** The fault plan (windows in provider ms since the start, as the fault plan's) and the time now. */
export type FaultPlanInForce = { nowSeconds: number; plan: SimulatorFaultPlan };

export type ResolvedSimulatorOptions = ProviderSimulatorOptions & { seed: number };

export type RunningProviderSimulator = {
  /** The provider's base URL: the protocol lives at `{url}/transaction`. */
  url: string;
  /** The options in force, the seed included even when it was drawn at random. */
  options: Readonly<ResolvedSimulatorOptions>;
  truth(): GroundTruth;
  /** Forgets everything and restores the starting script; POSTs still waiting are answered 503. */
  reset(): void;
  /** Adds to the script (an id's new entry replaces its old one); returns the whole script. */
  script(update: Partial<SimulatorScript>): SimulatorScript;
  /**
   * Replaces the global fault periods, counted from now (no periods: recovered); throws on
   * periods `POST /_sim/faults` would refuse.
   */
  faults(periods: FaultPeriodsRequest): FaultPlanInForce;
  /** Clears every pending timer, drops open connections and stops sending webhooks. */
  close(): Promise<void>;
};

/** Starts the simulator on `host:port`, ready once the promise resolves. */
export async function startProviderSimulator(
  options: ProviderSimulatorStartOptions = {},
): Promise<RunningProviderSimulator> {
  const { port = 0, host = '127.0.0.1', logger = pino({ enabled: false }), ...overrides } = options;
  const resolved = resolveSimulatorOptions(overrides);
  const simulator = new ProviderSimulator(
    { ...resolved, seed: resolved.seed ?? randomInt(2 ** 32) },
    logger,
  );
  try {
    await simulator.server.listen({ port, host });
  } catch (error) {
    await simulator.close();
    throw error;
  }
  const boundPort = (simulator.server.server.address() as AddressInfo).port;
  return {
    url: `http://${hostForUrl(host)}:${boundPort}`,
    options: simulator.options,
    truth: () => simulator.truth(),
    reset: () => simulator.reset(),
    script: (update) => simulator.script(update),
    faults: (periods) => simulator.faults(faultPeriodsSchema.parse(periods)),
    close: () => simulator.close(),
  };
}

const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Longer ids are refused, since a status check could not carry them in its path. */
const MAX_ID_LENGTH = 1024;

const idRule = { error: `must be a string of 1 to ${MAX_ID_LENGTH} characters` };

const submissionBodySchema = z.object(
  {
    id: z.string(idRule).min(1, idRule).max(MAX_ID_LENGTH, idRule),
    webhookUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http or https URL' }),
  },
  { error: 'the body must be a JSON object { "id", "webhookUrl" }' },
);

const scriptBodySchema = z.strictObject({
  forceOutcomes: outcomeScriptSchema.optional(),
  webhookBehaviour: webhookScriptSchema.optional(),
});

/** Everything a reset forgets. */
type SimulatorState = {
  /** performance.now() when provider time was 0. */
  startedAt: number;
  records: ProviderRecords;
  truth: GroundTruthRecorder;
  budget: StatusCheckBudget | null;
  // Maps, not records: ids come from clients, and an id such as "__proto__" must stay plain data.
  forceOutcomes: Map<string, ForcedOutcome | ForcedOutcome[]>;
  webhookBehaviour: Map<string, WebhookBehaviour>;
  faultPlan: SimulatorFaultPlan;
};

class ProviderSimulator {
  readonly server: FastifyInstance = fastify({
    forceCloseConnections: true,
    // Percent-encoded UTF-8 takes up to 12 characters per character of an id.
    routerOptions: { maxParamLength: MAX_ID_LENGTH * 12 },
  });
  private state: SimulatorState;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** POSTs whose answer is still scheduled. */
  private readonly awaitingReplies = new Set<FastifyReply>();
  private readonly webhooks: WebhookSender;
  private closing: Promise<void> | null = null;

  constructor(
    readonly options: ResolvedSimulatorOptions,
    private readonly logger: Logger,
  ) {
    this.webhooks = new WebhookSender(options.webhookSecret, options.webhookDeliveryTimeoutMs);
    this.state = this.freshState();
    this.registerRoutes();
  }

  truth(): GroundTruth {
    return this.state.truth.snapshot(this.nowSeconds());
  }

  reset(): void {
    this.clearTimers();
    for (const reply of this.awaitingReplies) void reply.code(503).send('Simulator reset');
    this.awaitingReplies.clear();
    this.state = this.freshState();
  }

  script(update: Partial<SimulatorScript>): SimulatorScript {
    const { forceOutcomes, webhookBehaviour } = this.state;
    for (const [id, outcome] of Object.entries(update.forceOutcomes ?? {})) {
      forceOutcomes.set(id, outcome);
    }
    for (const [id, behaviour] of Object.entries(update.webhookBehaviour ?? {})) {
      webhookBehaviour.set(id, behaviour);
    }
    return {
      forceOutcomes: Object.fromEntries(forceOutcomes),
      webhookBehaviour: Object.fromEntries(webhookBehaviour),
    };
  }

  faults(periods: FaultPeriods): FaultPlanInForce {
    this.state.faultPlan = faultPlanFrom(periods, this.nowSeconds() * 1000);
    return this.faultPlanInForce();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.clearTimers();
    this.awaitingReplies.clear();
    // forceCloseConnections drops the POSTs still waiting instead of waiting for them.
    await this.server.close();
    await this.webhooks.close();
  }

  private registerRoutes(): void {
    // Like the reference: whatever is not found is a bare 404.
    this.server.setNotFoundHandler((_request, reply) => {
      void reply.code(404).send();
    });
    this.server.post('/transaction', (request, reply) => {
      this.submit(request.body, reply);
    });
    this.server.get<{ Params: { id: string } }>('/transaction/:id', (request, reply) => {
      this.checkStatus(request.params.id, callerOf(request), reply);
    });
    this.server.get('/_sim/truth', () => this.truth());
    this.server.get<{ Params: { id: string } }>('/_sim/truth/:id', (request, reply) => {
      const transaction = this.state.truth.transactionSnapshot(request.params.id);
      if (transaction) void reply.send(transaction);
      else void reply.code(404).send({ error: 'no POST nor status check seen for this id' });
    });
    this.server.post('/_sim/reset', (_request, reply) => {
      this.reset();
      void reply.code(204).send();
    });
    this.server.post('/_sim/script', (request, reply) => {
      const parsed = scriptBodySchema.safeParse(request.body ?? {});
      if (parsed.success) void reply.send(this.script(parsed.data));
      else void reply.code(400).send({ error: describeIssues(parsed.error) });
    });
    this.server.get('/_sim/faults', () => this.faultPlanInForce());
    this.server.post('/_sim/faults', (request, reply) => {
      const parsed = faultPeriodsSchema.safeParse(request.body);
      if (parsed.success) void reply.send(this.faults(parsed.data));
      else void reply.code(400).send({ error: describeIssues(parsed.error) });
    });
    this.server.delete('/_sim/faults', (_request, reply) => {
      this.faults({ periods: [] });
      void reply.code(204).send();
    });
  }

  private faultPlanInForce(): FaultPlanInForce {
    // Seconds, as every other time the simulator shows; the plan keeps the fault plan's ms.
    return { nowSeconds: this.nowSeconds(), plan: structuredClone(this.state.faultPlan) };
  }

  private submit(body: unknown, reply: FastifyReply): void {
    const parsed = submissionBodySchema.safeParse(body);
    if (!parsed.success) {
      void reply.code(400).send({ error: describeIssues(parsed.error) });
      return;
    }
    const { id, webhookUrl } = parsed.data;
    const state = this.state;
    const faults = faultsAt(state.faultPlan, this.nowSeconds() * 1000);
    if (faults.outage) {
      // Unreachable: the connection drops with no answer, and nothing was received.
      reply.raw.destroy();
      return;
    }
    const attempt = state.truth.submissionsOf(id) + 1;
    const script: SubmissionScript = {
      outcome: scriptedOutcome(state.forceOutcomes.get(id), attempt),
      webhook: state.webhookBehaviour.get(id),
    };
    const drawn = drawOutcome(
      submissionRandom(this.options.seed, id, attempt),
      faults.allGatewayTimeouts ? { ...this.options, p504: 1 } : this.options,
      script,
    );
    const outcome: Outcome =
      drawn.kind === 'ok' && faults.slowAnswerMs !== null
        ? answeredAfter(drawn, faults.slowAnswerMs / 1000)
        : drawn;
    const submission = state.truth.recordSubmission(id, {
      attempt,
      receivedAtSeconds: this.nowSeconds(),
      webhookUrl,
      scripted: script.outcome !== undefined || script.webhook !== undefined,
      outcome,
    });
    this.logger.debug({ id, attempt, outcome }, 'transaction submitted');
    this.awaitingReplies.add(reply);
    switch (outcome.kind) {
      case 'ok':
        this.writeRecord(state, id, submission, 'pending');
        this.after(outcome.responseDelaySeconds, () => {
          this.writeRecord(state, id, submission, outcome.status);
          this.answer(reply, submission, 200, { id, status: outcome.status, webhookUrl });
        });
        if (outcome.webhook) this.scheduleWebhook(state, id, submission, outcome.webhook);
        return;
      case 'late':
        this.after(outcome.appearsAfterSeconds, () => {
          this.writeRecord(state, id, submission, outcome.status);
        });
        this.after(outcome.responseDelaySeconds, () => {
          this.answer(reply, submission, 504, 'Gateway Timeout');
        });
        return;
      case 'lost':
        this.after(outcome.responseDelaySeconds, () => {
          this.answer(reply, submission, 504, 'Gateway Timeout');
        });
        return;
    }
  }

  private answer(
    reply: FastifyReply,
    submission: SubmissionTruth,
    statusCode: 200 | 504,
    payload: object | string,
  ): void {
    this.awaitingReplies.delete(reply);
    submission.respondedAtSeconds = this.nowSeconds();
    submission.responseStatusCode = statusCode;
    // A string goes out as text/plain, an object as JSON: exactly the reference's two shapes.
    void reply.code(statusCode).send(payload);
  }

  private writeRecord(
    state: SimulatorState,
    id: string,
    submission: SubmissionTruth,
    status: ProviderStatus,
  ): void {
    state.records.write(id, submission, status, this.nowSeconds());
  }

  private checkStatus(id: string, caller: string, reply: FastifyReply): void {
    const state = this.state;
    const now = this.nowSeconds();
    const { outage, rateLimitStorm } = faultsAt(state.faultPlan, now * 1000);
    if (outage) {
      reply.raw.destroy();
      return;
    }
    if (rateLimitStorm) {
      state.truth.recordStatusCheck(id, caller, now, 'rejected', false);
      const { retryAfterSeconds } = rateLimitStorm;
      if (retryAfterSeconds !== null) {
        void reply.header(
          'retry-after',
          String(wholeSecondsUntil(retryAfterSeconds * this.options.timeScale)),
        );
      }
      void reply.code(429).send({ error: 'status check refused: a scripted 429 storm' });
      return;
    }
    const decision = state.budget?.decide(caller, now) ?? { admitted: true };
    if (!decision.admitted) {
      state.truth.recordStatusCheck(id, caller, now, 'rejected', decision.banStarted);
      if (decision.banStarted) this.logger.warn({ caller }, 'status check budget exceeded: banned');
      void reply
        .code(429)
        .header(
          'retry-after',
          String(wholeSecondsUntil(decision.retryAfterSeconds * this.options.timeScale)),
        )
        .send({ error: 'status check budget exceeded: banned until Retry-After has passed' });
      return;
    }
    const record = state.records.read(id);
    state.truth.recordStatusCheck(id, caller, now, record ? 'found' : 'notFound', false);
    if (record) {
      void reply.send({ id: record.id, status: record.status, webhookUrl: record.webhookUrl });
    } else {
      void reply.code(404).send();
    }
  }

  private scheduleWebhook(
    state: SimulatorState,
    id: string,
    submission: SubmissionTruth,
    plan: PlannedWebhook,
  ): void {
    const message: WebhookMessage = {
      messageId: `msg_${randomUUID()}`,
      payload: { id, status: plan.status },
    };
    for (let copy = 1; copy <= plan.copies; copy += 1) {
      this.after(plan.delaySeconds, () => this.deliverWebhook(state, submission, message, copy, 1));
    }
  }

  private async deliverWebhook(
    state: SimulatorState,
    submission: SubmissionTruth,
    message: WebhookMessage,
    copy: number,
    delivery: number,
  ): Promise<void> {
    const sentAtSeconds = this.nowSeconds();
    const result = await this.webhooks.deliver(submission.webhookUrl, message);
    if (this.closing || state !== this.state) return; // closed or reset while in flight
    state.truth.recordWebhookDelivery(message.payload.id, {
      attempt: submission.attempt,
      messageId: message.messageId,
      copy,
      delivery,
      sentAtSeconds,
      status: message.payload.status,
      ...result,
    });
    if (isAccepted(result)) return;
    const { count, backoffSeconds } = this.options.webhookRetries;
    const willRetry = delivery <= count;
    this.logger.warn(
      { id: message.payload.id, url: submission.webhookUrl, delivery, willRetry, ...result },
      'webhook delivery failed',
    );
    if (willRetry) {
      this.after(backoffSeconds * 2 ** (delivery - 1), () =>
        this.deliverWebhook(state, submission, message, copy, delivery + 1),
      );
    }
  }

  /** Runs `task` after `providerSeconds` of provider time, unless a reset or close comes first. */
  private after(providerSeconds: number, task: () => void | Promise<void>): void {
    // setTimeout fires at once when asked to wait longer than it can (about 24.8 days).
    const realMs = Math.min(providerSeconds * 1000 * this.options.timeScale, LONGEST_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // Deliveries report failures as results, so this only catches bugs: the simulator lives on.
      new Promise<void>((resolve) => resolve(task())).catch((error: unknown) =>
        this.logger.error({ err: error }, 'provider simulator task failed'),
      );
    }, realMs);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private nowSeconds(): number {
    return (performance.now() - this.state.startedAt) / 1000 / this.options.timeScale;
  }

  private freshState(): SimulatorState {
    return {
      startedAt: performance.now(),
      records: new ProviderRecords(),
      truth: new GroundTruthRecorder(this.options.seed, this.options.timeScale),
      budget: this.options.statusBudget && new StatusCheckBudget(this.options.statusBudget),
      forceOutcomes: new Map(Object.entries(this.options.forceOutcomes)),
      webhookBehaviour: new Map(Object.entries(this.options.webhookBehaviour)),
      faultPlan: {},
    };
  }
}

/**
 * Whom the status budget counts: the `x-client-id` header when present, else the client IP. The
 * header lets tests (or tenants) sharing one host have separate budgets; the reference adapter
 * sends none, so it is counted by IP. The prefixes keep a header value from posing as an IP.
 */
function callerOf(request: FastifyRequest): string {
  const clientId = request.headers['x-client-id'];
  return typeof clientId === 'string' && clientId.length > 0
    ? `client:${clientId}`
    : `ip:${request.ip}`;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ` : '') + issue.message)
    .join('; ');
}

/** A host as it must appear in a URL: wildcards become loopback, IPv6 gets brackets. */
function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
