import { request } from 'undici';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import type { TransactionTruth } from '../../src/provider-simulator/ground-truth';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { ServiceHarness } from '../support/service-harness';
import { streamOf } from '../support/stream-reader';

const LATE_WINDOW_SECONDS = 120;
const MARGIN_SECONDS = 15;
/** Our clock starts an attempt just before its POST leaves: allow that much skew (50 ms real). */
const SKEW_SECONDS = 2.5;

interface View {
  id: string;
  status: string;
  stage: string;
  attempts: number;
  finalStatusSource: string | null;
  failureReason: string | null;
  reconciliation: string | null;
  funds: string | null;
}

describe('getting transactions through the provider (simulator, compressed time)', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;
  let token: string;

  const providerIdOf = (clientId: string) => transactionIdFor('alice', clientId);

  beforeAll(async () => {
    simulator = await startProviderSimulator({
      timeScale: SCALE,
      seed: 20261121,
      statusBudget: { requestsPerSecond: 10, banSeconds: 60 },
    });
    service = await ServiceHarness.start(compressedServiceEnv(simulator.url));
    token = await service.token('alice');
    await service.fund({ owner: 'alice', currency: 'KES' });
  });

  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  async function submit(clientId: string): Promise<void> {
    const response = await service.call('POST', '/v1/transactions', {
      token,
      body: { id: clientId, amount: 1000, currency: 'KES', recipient: 'bob' },
    });
    expect(response.status).toBe(202);
  }

  /** Long-polls until final or in reconciliation (or the deadline passes). */
  async function settle(clientId: string, deadlineMs = 20_000): Promise<View> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const response = await service.call('GET', `/v1/transactions/${clientId}`, {
        token,
        headers: { prefer: 'wait=2' },
      });
      const view = response.body as View;
      if (view.status !== 'PENDING' || view.reconciliation !== null || Date.now() > until) {
        return view;
      }
    }
  }

  function truthOf(clientId: string): TransactionTruth {
    const truth = simulator.truth().transactions.find((t) => t.id === providerIdOf(clientId));
    if (!truth) throw new Error(`the provider never heard of ${clientId}`);
    return truth;
  }

  /** The promises of the design, checked against what really happened at the provider. */
  function expectTruthful(clientId: string, view: View): void {
    const truth = truthOf(clientId);
    // One POST per attempt, and a new attempt only after the late window proved the last lost.
    expect(truth.submissions).toHaveLength(view.attempts);
    for (let i = 1; i < truth.submissions.length; i++) {
      expect(truth.submissions[i - 1].outcome.kind).toBe('lost');
      const gap =
        truth.submissions[i].receivedAtSeconds - truth.submissions[i - 1].receivedAtSeconds;
      expect(gap).toBeGreaterThan(LATE_WINDOW_SECONDS);
      expect(gap).toBeGreaterThanOrEqual(LATE_WINDOW_SECONDS + MARGIN_SECONDS - SKEW_SECONDS);
    }
    const last = truth.submissions.at(-1)!;
    if (last.outcome.kind === 'lost') {
      expect(view).toMatchObject({ status: 'FAILED', failureReason: 'provider_lost' });
    } else {
      expect(view.status).toBe(last.outcome.status === 'completed' ? 'SUCCEEDED' : 'FAILED');
    }
  }

  it('a fast 200 is final from the submission itself; its webhook changes nothing', async () => {
    simulator.script({
      forceOutcomes: { [providerIdOf('ok-1')]: 'ok-completed' },
      webhookBehaviour: { [providerIdOf('ok-1')]: 'duplicate' },
    });
    await submit('ok-1');
    const view = await settle('ok-1');
    expect(view).toMatchObject({
      status: 'SUCCEEDED',
      finalStatusSource: 'submission',
      stage: 'final',
    });
    expectTruthful('ok-1', view);
  });

  it('a declined 200 with no webhook fails with reason declined', async () => {
    simulator.script({
      forceOutcomes: { [providerIdOf('declined-1')]: 'ok-declined' },
      webhookBehaviour: { [providerIdOf('declined-1')]: 'none' },
    });
    await submit('declined-1');
    const view = await settle('declined-1');
    expect(view).toMatchObject({ status: 'FAILED', failureReason: 'declined' });
    expectTruthful('declined-1', view);
  });

  it('a 504 whose record appears late is found by a status check, never re-POSTed', async () => {
    simulator.script({ forceOutcomes: { [providerIdOf('late-1')]: 'late-completed' } });
    await submit('late-1');
    const view = await settle('late-1');
    expect(view).toMatchObject({
      status: 'SUCCEEDED',
      finalStatusSource: 'status_check',
      attempts: 1,
    });
    expect(truthOf('late-1').webhooks).toHaveLength(0);
    expectTruthful('late-1', view);
  });

  it('a lost 504 is retried once the late window has passed, and then succeeds', async () => {
    simulator.script({
      forceOutcomes: { [providerIdOf('lost-then-ok')]: ['lost', 'ok-completed'] },
    });
    await submit('lost-then-ok');
    const view = await settle('lost-then-ok');
    expect(view).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    expectTruthful('lost-then-ok', view);
  });

  it('lost on every allowed attempt ends FAILED provider_lost', async () => {
    simulator.script({ forceOutcomes: { [providerIdOf('lost-twice')]: ['lost', 'lost'] } });
    await submit('lost-twice');
    const view = await settle('lost-twice');
    expect(view).toMatchObject({
      status: 'FAILED',
      failureReason: 'provider_lost',
      finalStatusSource: 'process_manager',
      attempts: 2,
    });
    expectTruthful('lost-twice', view);
  });

  it('a contradicting webhook never overwrites the status: it opens a reconciliation case', async () => {
    const id = providerIdOf('contradicted-1');
    simulator.script({
      forceOutcomes: { [id]: 'ok-completed' },
      webhookBehaviour: { [id]: 'contradicting' },
    });
    await submit('contradicted-1');
    await settle('contradicted-1');
    const until = Date.now() + 10_000;
    let view: View;
    do {
      view = (await service.call('GET', '/v1/transactions/contradicted-1', { token })).body as View;
    } while (view.reconciliation === null && Date.now() < until && (await pause(50)));
    expect(view).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'needs_reconciliation',
      reconciliation: 'conflicting_reports',
    });
  });

  it('a forged or malformed webhook is refused and changes nothing', async () => {
    simulator.script({
      forceOutcomes: { [providerIdOf('forged-1')]: 'late-completed' },
    });
    await submit('forged-1');
    const id = providerIdOf('forged-1');
    const forged = await request(`${service.baseUrl}/v1/provider/webhooks/${id}/not-the-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, status: 'declined' }),
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['content-type']).toMatch(/problem\+json/);
    await forged.body.dump();
    const view = await settle('forged-1');
    expect(view).toMatchObject({ status: 'SUCCEEDED', finalStatusSource: 'status_check' });
  });

  it('a reference mix of 40 transactions: every one final and truthful, within the budget', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `mix-${i}`);
    await Promise.all(ids.map(submit));
    const views = await Promise.all(ids.map((id) => settle(id, 30_000)));
    views.forEach((view, i) => {
      expect(view.status === 'PENDING' && view.reconciliation === null).toBe(false);
      if (view.reconciliation === null) expectTruthful(ids[i], view);
    });
    const checks = simulator.truth().totals.statusChecks;
    expect(checks.rejected).toBe(0);
    expect(checks.maxInAnySecond).toBeLessThanOrEqual(10);
  });

  it('follows a transaction by Server-Sent Events until it is final', async () => {
    simulator.script({ forceOutcomes: { [providerIdOf('sse-1')]: 'late-declined' } });
    await submit('sse-1');
    const response = await request(`${service.baseUrl}/v1/transactions/sse-1/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const text = await response.body.text();
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('event: status'))
      .map((block) => JSON.parse(block.split('\ndata: ')[1]) as View);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ status: 'FAILED' });
    expect(events.slice(0, -1).every((event) => event.status === 'PENDING')).toBe(true);
  });

  it('Prefer: wait on the POST answers 200 once final, and long-polls by ETag on the GET', async () => {
    simulator.script({ forceOutcomes: { [providerIdOf('wait-1')]: 'ok-completed' } });
    const created = await service.call('POST', '/v1/transactions', {
      token,
      body: { id: 'wait-1', amount: 5, currency: 'KES', recipient: 'bob' },
      headers: { prefer: 'wait=5' },
    });
    expect(created.status).toBe(200);
    expect(created.headers['preference-applied']).toBe('wait=5');
    expect(created.body).toMatchObject({ status: 'SUCCEEDED' });

    // The hold is posted just after the final status: the last change of this transaction.
    let current = await service.call('GET', '/v1/transactions/wait-1', { token });
    while ((current.body as View).funds !== 'captured') {
      current = await service.call('GET', '/v1/transactions/wait-1', {
        token,
        headers: { 'if-none-match': String(current.headers.etag), prefer: 'wait=5' },
      });
      if (current.status === 304) {
        current = await service.call('GET', '/v1/transactions/wait-1', { token });
      }
    }
    const etag = String(current.headers.etag);
    const started = Date.now();
    const unchanged = await service.call('GET', '/v1/transactions/wait-1', {
      token,
      headers: { 'if-none-match': etag, prefer: 'wait=1' },
    });
    expect(unchanged.status).toBe(304);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

function pause(ms: number): Promise<true> {
  return new Promise((resolve) => setTimeout(() => resolve(true), ms));
}

/** The simulator's ban; its Retry-After, whole seconds, is what the service waits (real time). */
const BAN_SECONDS = 1;
const RETRY_AFTER_MS = BAN_SECONDS * 1000;

describe('a provider that bans clients polling too often', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;

  beforeAll(async () => {
    simulator = await startProviderSimulator({
      timeScale: SCALE,
      seed: 429,
      // Stricter than our configured rate: our checks will be refused and we must back off.
      statusBudget: { requestsPerSecond: 1, banSeconds: BAN_SECONDS },
    });
    service = await ServiceHarness.start({
      ...compressedServiceEnv(simulator.url),
      STATUS_CHECK_RATE: String(8 / SCALE),
      STATUS_CHECK_MIN_RATE: String(0.5 / SCALE),
    });
  });

  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  it('honours 429 and Retry-After, slows down, and still finishes every transaction', async () => {
    const token = await service.token('erin');
    await service.fund({ owner: 'erin', currency: 'KES' });
    const ids = Array.from({ length: 8 }, (_, i) => `banned-${i}`);
    simulator.script({
      forceOutcomes: Object.fromEntries(
        ids.map((id) => [transactionIdFor('erin', id), 'late-completed']),
      ),
    });
    for (const id of ids) {
      await service.call('POST', '/v1/transactions', {
        token,
        body: { id, amount: 10, currency: 'KES', recipient: 'bob' },
      });
    }
    const views = await Promise.all(
      ids.map(async (id) => {
        const until = Date.now() + 25_000;
        for (;;) {
          const response = await service.call('GET', `/v1/transactions/${id}`, {
            token,
            headers: { prefer: 'wait=2' },
          });
          const view = response.body as View;
          if (view.status !== 'PENDING' || Date.now() > until) return view;
        }
      }),
    );
    expect(views.map((view) => view.status)).toEqual(ids.map(() => 'SUCCEEDED'));
    const checks = simulator.truth().totals.statusChecks;
    expect(checks.bans).toBeGreaterThanOrEqual(1);
    expect(simulator.truth().totals.idsSubmittedMoreThanOnce).toBe(0);

    // How many checks a ban refuses depends on how many were already on their way when the 429
    // came back, which is timing. What the design promises does not: every refusal is recorded,
    // and the check that follows one is planned no sooner than its Retry-After (whole seconds).
    const streams = await Promise.all(
      ids.map((id) => streamOf(service, transactionIdFor('erin', id))),
    );
    let rateLimited = 0;
    for (const events of streams) {
      events.forEach((event, index) => {
        const data = event.data as { result?: string; at?: string; dueAt?: string };
        if (event.type !== 'StatusChecked' || data.result !== 'rate_limited') return;
        rateLimited += 1;
        const next = events[index + 1] as (typeof events)[number] | undefined;
        if (next?.type !== 'StatusCheckScheduled') return;
        const due = Date.parse((next.data as { dueAt: string }).dueAt);
        expect(due).toBeGreaterThanOrEqual(Date.parse(data.at!) + RETRY_AFTER_MS);
      });
    }
    expect(rateLimited).toBe(checks.rejected);
  });
});
