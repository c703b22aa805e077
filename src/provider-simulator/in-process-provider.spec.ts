import { install, type Clock as VirtualClock } from '@sinonjs/fake-timers';
import { describePaymentProviderContract } from '../provider/payment-provider.contract';
import type { SubmissionOutcome } from '../provider/payment-provider.port';
import { SystemClock } from '../shared/clock';
import { SeededRandom } from '../shared/random';
import { drawProviderFaultPlan, ProviderFaultPlan, providerFaultClasses } from './fault-plan';
import {
  InProcessProvider,
  InProcessProviderOptions,
  WebhookDelivery,
} from './in-process-provider';

const START = new Date('2026-01-01T00:00:00Z');
const SUBMIT_TIMEOUT_MS = 45_000;
const WEBHOOK_URL = 'http://ledger.test/webhooks/x';

/** Virtual time under fake timers, as the simulation runs it. */
function virtualTime(): VirtualClock {
  return install({
    now: START,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'Date'],
  });
}

/** Lets virtual time pass until `operation` settles. */
async function settleOn<T>(clock: VirtualClock, operation: Promise<T>): Promise<T> {
  let settled = false;
  operation.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Ten virtual hours: far beyond any delay of the protocol, so hitting it means a hang.
  for (let second = 0; !settled; second += 1) {
    if (second > 36_000) throw new Error('the operation never settled');
    await clock.tickAsync(1_000);
  }
  return operation;
}

async function eventuallyOn<T>(
  clock: VirtualClock,
  read: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    const value = await settleOn(clock, read());
    if (done(value) || attempt > 3_600) return value;
    await clock.tickAsync(1_000);
  }
}

function provider(overrides: Partial<InProcessProviderOptions> = {}): InProcessProvider {
  return new InProcessProvider({
    clock: new SystemClock(),
    random: new SeededRandom(7),
    deliver: async () => 204,
    submitTimeoutMs: SUBMIT_TIMEOUT_MS,
    ...overrides,
  });
}

const statusBudget = { requestsPerSecond: 2, banSeconds: 30 };

describePaymentProviderContract('in-process (virtual time)', {
  async open() {
    const clock = virtualTime();
    const adapter = provider({
      protocol: {
        statusBudget,
        responseDelaySeconds: { min: 10, max: 10 },
        lateAppearanceSeconds: { min: 120, max: 120 },
      },
    });
    return {
      provider: adapter,
      forceOutcomes: (id, outcomes) => adapter.script({ forceOutcomes: { [id]: outcomes } }),
      settle: (operation) => settleOn(clock, operation),
      eventually: (read, done) => eventuallyOn(clock, read, done),
      statusBudget,
      close: async () => {
        await adapter.close();
        clock.uninstall();
      },
    };
  },
});

describe('in-process provider', () => {
  let clock: VirtualClock;

  beforeEach(() => {
    clock = virtualTime();
  });

  afterEach(() => clock.uninstall());

  /** Submits `count` ids one after the other, returning each answer. */
  async function submitAll(adapter: InProcessProvider, count: number) {
    const answers: SubmissionOutcome[] = [];
    for (let index = 0; index < count; index += 1) {
      answers.push(
        await settleOn(
          clock,
          adapter.submit({ providerId: `tx-${index}`, webhookUrl: WEBHOOK_URL, sendBy: Infinity }),
        ),
      );
    }
    return answers;
  }

  it('draws the reference mix: mostly final at once, some 504s, lost and late alike', async () => {
    const adapter = provider({ protocol: { statusBudget: null } });
    const answers = await submitAll(adapter, 400);
    await clock.tickAsync(200_000);
    const truth = adapter.truth();
    const { ok, late, lost } = truth.totals.outcomes;
    expect(ok).toBeGreaterThan(330);
    expect(late).toBeGreaterThan(5);
    expect(lost).toBeGreaterThan(5);
    expect(answers.filter((answer) => answer.kind === 'final')).toHaveLength(ok);
    expect(
      answers.filter(
        (answer) => answer.kind === 'ambiguous' && answer.reason === 'gateway_timeout',
      ),
    ).toHaveLength(late + lost);
    for (const transaction of truth.transactions) {
      const [submission] = transaction.submissions;
      expect(transaction.record === null).toBe(submission.outcome.kind === 'lost');
      if (submission.outcome.kind === 'late') expect(transaction.webhooks).toEqual([]);
    }
    await adapter.close();
  });

  it('replays exactly: the same seed and calls give the same answers and truth', async () => {
    async function run() {
      const adapter = provider({
        random: new SeededRandom(99),
        faultPlan: drawProviderFaultPlan(new SeededRandom(5), {
          durationMs: 600_000,
          classes: providerFaultClasses,
        }),
      });
      const answers = await submitAll(adapter, 60);
      const checks = await Promise.all(
        answers.map((_answer, index) =>
          settleOn(clock, adapter.checkStatus(`tx-${index}`, Infinity)),
        ),
      );
      await clock.tickAsync(3_600_000);
      const truth = adapter.truth();
      await adapter.close();
      return { answers, checks, truth: { ...truth, startedAtMs: 0 } };
    }
    const first = await run();
    expect(await run()).toEqual(first);
  });

  it('answers `timeout` at our submit timeout while the provider still finishes the POST', async () => {
    const adapter = provider({
      faultPlan: { slowAnswers: { share: 1, extraMs: { min: 5_000, max: 5_000 } } },
      protocol: { forceOutcomes: { 'tx-slow': 'ok-completed' } },
    });
    const answer = adapter.submit({
      providerId: 'tx-slow',
      webhookUrl: WEBHOOK_URL,
      sendBy: Infinity,
    });
    expect(await settleOn(clock, answer)).toMatchObject({ kind: 'ambiguous', reason: 'timeout' });
    expect(await settleOn(clock, adapter.checkStatus('tx-slow', Infinity))).toEqual({
      kind: 'found',
      status: 'pending',
    });
    await clock.tickAsync(10_000);
    expect(await settleOn(clock, adapter.checkStatus('tx-slow', Infinity))).toEqual({
      kind: 'found',
      status: 'completed',
    });
    const [transaction] = adapter.truth().transactions;
    expect(transaction.answers).toEqual([
      expect.objectContaining({ attempt: 1, answeredAtSeconds: 45, faults: ['slowAnswers'] }),
    ]);
    expect(transaction.submissions[0]).toMatchObject({
      respondedAtSeconds: 50,
      finalAtSeconds: 50,
    });
    expect(adapter.faultCounts().slowAnswers).toBe(1);
    await adapter.close();
  });

  it('records every POST of an id, what we were answered, and which POST wrote the record', async () => {
    const adapter = provider({
      protocol: {
        forceOutcomes: { 'tx-twice': ['lost', 'ok-declined'] },
        responseDelaySeconds: { min: 2, max: 2 },
      },
    });
    const submission = { providerId: 'tx-twice', webhookUrl: WEBHOOK_URL, sendBy: Infinity };
    await settleOn(clock, adapter.submit(submission));
    await clock.tickAsync(150_000);
    await settleOn(clock, adapter.submit(submission));
    const truth = adapter.truth();
    expect(truth.totals).toMatchObject({ submissions: 2, idsSubmittedMoreThanOnce: 1 });
    const [transaction] = truth.transactions;
    expect(transaction.submissions.map(({ attempt, outcome }) => [attempt, outcome.kind])).toEqual([
      [1, 'lost'],
      [2, 'ok'],
    ]);
    expect(transaction.answers.map(({ attempt, outcome }) => [attempt, outcome?.kind])).toEqual([
      [1, 'ambiguous'],
      [2, 'final'],
    ]);
    expect(transaction.record).toEqual({
      status: 'declined',
      writtenByAttempt: 2,
      visibleAtSeconds: transaction.submissions[1].receivedAtSeconds,
    });
    await adapter.close();
  });

  it('delivers the webhook of a 200 once, at its drawn time, and records it', async () => {
    const delivered: unknown[] = [];
    const deliver: WebhookDelivery = async (url, body) => {
      delivered.push({ url, body, at: Date.now() - START.getTime() });
      return 204;
    };
    const adapter = provider({
      deliver,
      protocol: {
        forceOutcomes: { 'tx-hook': 'ok-declined' },
        webhookBehaviour: { 'tx-hook': 'once' },
        webhookDelaySeconds: { min: 20, max: 20 },
      },
    });
    await settleOn(
      clock,
      adapter.submit({ providerId: 'tx-hook', webhookUrl: WEBHOOK_URL, sendBy: Infinity }),
    );
    await clock.tickAsync(3_600_000);
    expect(delivered).toEqual([
      { url: WEBHOOK_URL, body: { id: 'tx-hook', status: 'declined' }, at: 20_000 },
    ]);
    expect(adapter.truth().transactions[0].webhooks).toEqual([
      expect.objectContaining({ copy: 1, sentAtSeconds: 20, status: 'declined', statusCode: 204 }),
    ]);
    await adapter.close();
  });

  it('records a receiver that throws as a failed delivery, without retrying', async () => {
    const deliver = jest.fn<ReturnType<WebhookDelivery>, Parameters<WebhookDelivery>>(() =>
      Promise.reject(new Error('receiver crashed')),
    );
    const adapter = provider({
      deliver,
      protocol: {
        forceOutcomes: { 'tx-hook': 'ok-completed' },
        webhookBehaviour: { 'tx-hook': 'once' },
      },
    });
    await settleOn(
      clock,
      adapter.submit({ providerId: 'tx-hook', webhookUrl: WEBHOOK_URL, sendBy: Infinity }),
    );
    await clock.tickAsync(3_600_000);
    expect(deliver).toHaveBeenCalledTimes(1);
    expect(adapter.truth().totals.webhookDeliveries).toEqual({
      attempted: 1,
      succeeded: 0,
      failed: 1,
    });
    await adapter.close();
  });

  describe('faults', () => {
    const window = (startMs: number, endMs: number) => ({ startMs, endMs });

    it('answers 504 to every POST inside a gateway-timeout window', async () => {
      const adapter = provider({
        faultPlan: { gatewayTimeouts: { windows: [window(0, 3_600_000)] } },
      });
      const answers = await submitAll(adapter, 20);
      expect(answers.every((answer) => answer.kind === 'ambiguous')).toBe(true);
      expect(adapter.faultCounts().gatewayTimeouts).toBe(20);
      await adapter.close();
    });

    it('is unreachable in an outage: nothing is received, submits are connection errors', async () => {
      const adapter = provider({ faultPlan: { outages: { windows: [window(0, 60_000)] } } });
      const submission = { providerId: 'tx-out', webhookUrl: WEBHOOK_URL, sendBy: Infinity };
      expect(await settleOn(clock, adapter.submit(submission))).toMatchObject({
        kind: 'ambiguous',
        reason: 'connection',
      });
      expect(await settleOn(clock, adapter.checkStatus('tx-out', Infinity))).toMatchObject({
        kind: 'error',
      });
      await clock.tickAsync(60_000);
      expect(await settleOn(clock, adapter.checkStatus('tx-out', Infinity))).toEqual({
        kind: 'not_found',
      });
      const truth = adapter.truth();
      expect(truth.totals.submissions).toBe(0);
      expect(truth.statusCheckSeconds).toHaveLength(1);
      expect(truth.transactions[0].answers).toEqual([
        expect.objectContaining({ attempt: null, faults: ['outages'] }),
      ]);
      expect(truth.faults.outages).toBe(2);
      await adapter.close();
    });

    it('answers 429 to every check in a rate-limit storm, with its Retry-After', async () => {
      const adapter = provider({
        faultPlan: {
          rateLimitStorms: { storms: [{ ...window(0, 10_000), retryAfterSeconds: 3 }] },
        },
      });
      expect(await settleOn(clock, adapter.checkStatus('tx-a', Infinity))).toEqual({
        kind: 'rate_limited',
        retryAfterMs: 3_000,
      });
      await clock.tickAsync(10_000);
      expect(await settleOn(clock, adapter.checkStatus('tx-a', Infinity))).toEqual({
        kind: 'not_found',
      });
      expect(adapter.truth().totals.statusChecks).toMatchObject({ received: 2, rejected: 1 });
      await adapter.close();
    });

    it('loses every 504 when the lost share is 1', async () => {
      const adapter = provider({
        faultPlan: {
          gatewayTimeouts: { windows: [window(0, 3_600_000)] },
          lostTransactions: { lostShare: 1 },
        },
      });
      await submitAll(adapter, 10);
      expect(adapter.truth().totals.outcomes).toEqual({ ok: 0, late: 0, lost: 10 });
      expect(adapter.faultCounts().lostTransactions).toBe(10);
      await adapter.close();
    });

    it('sends webhooks duplicated, late and contradicting the record', async () => {
      const delivered: { id: string; status: string; atMs: number }[] = [];
      const adapter = provider({
        deliver: async (_url, body) => {
          delivered.push({ ...body, atMs: Date.now() - START.getTime() });
          return 204;
        },
        faultPlan: {
          duplicateWebhooks: { share: 1, gapMs: { min: 1_000, max: 1_000 } },
          lateWebhooks: { share: 1, extraMs: { min: 600_000, max: 600_000 } },
          contradictingWebhooks: { share: 1 },
        },
        protocol: {
          forceOutcomes: { 'tx-hook': 'ok-completed' },
          webhookBehaviour: { 'tx-hook': 'once' },
          webhookDelaySeconds: { min: 10, max: 10 },
        },
      });
      await settleOn(
        clock,
        adapter.submit({ providerId: 'tx-hook', webhookUrl: WEBHOOK_URL, sendBy: Infinity }),
      );
      await clock.tickAsync(3_600_000);
      expect(delivered).toEqual([
        { id: 'tx-hook', status: 'declined', atMs: 610_000 },
        { id: 'tx-hook', status: 'declined', atMs: 611_000 },
      ]);
      expect(adapter.truth().transactions[0].record).toMatchObject({ status: 'completed' });
      expect(adapter.faultCounts()).toMatchObject({
        duplicateWebhooks: 1,
        lateWebhooks: 1,
        contradictingWebhooks: 1,
      });
      await adapter.close();
    });

    it('delivers a reordered webhook after the next one due, or after a minute alone', async () => {
      const delivered: { id: string; atMs: number }[] = [];
      const adapter = provider({
        deliver: async (_url, body) => {
          delivered.push({ id: body.id, atMs: Date.now() - START.getTime() });
          return 204;
        },
        protocol: {
          forceOutcomes: { 'tx-1': 'ok-completed', 'tx-2': 'ok-completed', 'tx-3': 'ok-completed' },
          webhookBehaviour: { 'tx-1': 'once', 'tx-2': 'once', 'tx-3': 'once' },
          webhookDelaySeconds: { min: 10, max: 10 },
        },
        faultPlan: { reorderedWebhooks: { share: 1 } },
      });
      const submit = (providerId: string) =>
        void adapter.submit({ providerId, webhookUrl: WEBHOOK_URL, sendBy: Infinity });
      submit('tx-1');
      await clock.tickAsync(5_000);
      submit('tx-2');
      await clock.tickAsync(100_000);
      submit('tx-3');
      await clock.tickAsync(3_600_000);
      expect(delivered).toEqual([
        { id: 'tx-2', atMs: 15_000 },
        { id: 'tx-1', atMs: 15_000 },
        { id: 'tx-3', atMs: 105_000 + 10_000 + 60_000 },
      ]);
      expect(adapter.faultCounts().reorderedWebhooks).toBe(3);
      await adapter.close();
    });
  });
});

describe('drawProviderFaultPlan', () => {
  it('draws the same plan from the same seed, and only the classes asked for', () => {
    const draw = (): ProviderFaultPlan =>
      drawProviderFaultPlan(new SeededRandom(3), {
        durationMs: 3_600_000,
        classes: ['outages', 'lateWebhooks'],
      });
    const plan = draw();
    expect(Object.keys(plan).sort()).toEqual(['lateWebhooks', 'outages']);
    expect(draw()).toEqual(plan);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    for (const { startMs, endMs } of plan.outages!.windows) {
      expect(startMs).toBeLessThan(3_600_000);
      expect(endMs).toBeGreaterThan(startMs);
    }
  });
});
