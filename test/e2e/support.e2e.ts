import { join } from 'node:path';
import { SqliteWorkStore } from '../../src/process-manager/sqlite/sqlite-work-store';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { WebhookUrls } from '../../src/provider-webhooks/webhook-urls';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { HttpResponse, ServiceHarness, freePort } from '../support/service-harness';
import { until } from '../support/polling';
import { streamOf } from '../support/stream-reader';

const PROBLEM_PREFIX = 'urn:payment-ledger:problem:';

interface SupportView {
  id: string;
  transactionId: string;
  owner: string;
  status: string;
  stage: string;
  finalStatusSource: string | null;
  reconciliation: string | null;
  conflicts: number;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type QueueItem = SupportView & { reason: string };

function expectProblem(response: HttpResponse, status: number, slug: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}${slug}`, status });
}

describe('support routes against the simulator', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;
  let support: string;
  let customer: string;

  const OWNER = 'carol';
  const idOf = (clientId: string) => transactionIdFor(OWNER, clientId);
  /** Created in this order; the outcome each is forced to. */
  const CREATED = {
    'ok-1': { outcome: 'ok-completed', webhook: 'once' },
    'declined-1': { outcome: 'ok-declined', webhook: 'once' },
    'conflict-1': { outcome: 'ok-completed', webhook: 'contradicting' },
    'conflict-2': { outcome: 'ok-completed', webhook: 'contradicting' },
  } as const;

  const get = async <T>(path: string, token = support) =>
    (await service.call('GET', path, { token })).body as T;

  const supportView = (clientId: string) =>
    get<SupportView>(`/v1/support/transactions/${idOf(clientId)}`);

  beforeAll(async () => {
    simulator = await startProviderSimulator({ timeScale: SCALE, seed: 7 });
    service = await ServiceHarness.start(compressedServiceEnv(simulator.url));
    support = await service.token('sam', ['support']);
    customer = await service.token(OWNER);
    await service.fund({ owner: OWNER, currency: 'KES' });
    for (const [clientId, { outcome, webhook }] of Object.entries(CREATED)) {
      simulator.script({
        forceOutcomes: { [idOf(clientId)]: outcome },
        webhookBehaviour: { [idOf(clientId)]: webhook },
      });
      const created = await service.call('POST', '/v1/transactions', {
        token: customer,
        body: { id: clientId, amount: 700, currency: 'KES', recipient: 'dan' },
      });
      expect(created.status).toBe(202);
    }
    // Settled: both contradicting webhooks arrived and opened their cases.
    const settled = await until(
      () => get<Page<SupportView>>('/v1/support/transactions?limit=10'),
      (page) =>
        page.items.filter((t) => t.stage === 'final').length === 2 &&
        page.items.filter((t) => t.reconciliation === 'conflicting_reports').length === 2,
    );
    expect(settled.items).toHaveLength(4);
  });

  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  const someId = () => idOf('ok-1');
  const routes: { method: string; route: string; path: () => string; body?: unknown }[] = [
    { method: 'GET', route: 'search', path: () => '/v1/support/transactions' },
    { method: 'GET', route: 'one', path: () => `/v1/support/transactions/${someId()}` },
    { method: 'GET', route: 'queue', path: () => '/v1/support/reconciliation' },
    { method: 'GET', route: 'stats', path: () => '/v1/support/stats' },
    {
      method: 'POST',
      route: 'resolution',
      path: () => `/v1/support/transactions/${someId()}/resolution`,
      body: { status: 'FAILED', note: 'no' },
    },
  ];

  it.each(routes)('$method $route: 401 without a token', async ({ method, path, body }) => {
    const response = await service.call(method, path(), { body });
    expectProblem(response, 401, 'unauthenticated');
    expect(response.headers['www-authenticate']).toContain('Bearer');
  });

  it.each(routes)('$method $route: 403 for a customer token', async ({ method, path, body }) => {
    expectProblem(await service.call(method, path(), { token: customer, body }), 403, 'forbidden');
  });

  it('shows one transaction of any owner by internal id, with owner and transactionId', async () => {
    const response = await service.call('GET', `/v1/support/transactions/${idOf('ok-1')}`, {
      token: support,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: 'ok-1',
      transactionId: idOf('ok-1'),
      owner: OWNER,
      status: 'SUCCEEDED',
      stage: 'final',
      amount: 700,
      attempts: 1,
      conflicts: 0,
      providerStatus: 'completed',
    });
  });

  it('answers 404 for an unknown or malformed transaction id', async () => {
    expectProblem(
      await service.call('GET', `/v1/support/transactions/${idOf('nope')}`, { token: support }),
      404,
      'not-found',
    );
    expectProblem(
      await service.call('GET', '/v1/support/transactions/ok-1', { token: support }),
      404,
      'not-found',
    );
  });

  describe('search', () => {
    const ids = async (query: string) =>
      (await get<Page<SupportView>>(`/v1/support/transactions?${query}`)).items.map((t) => t.id);

    it('lists every transaction newest first, and filters by status, stage, owner and ids', async () => {
      expect(await ids('')).toEqual(['conflict-2', 'conflict-1', 'declined-1', 'ok-1']);
      expect(await ids('status=FAILED')).toEqual(['declined-1']);
      expect(await ids('stage=needs_reconciliation')).toEqual(['conflict-2', 'conflict-1']);
      expect(await ids(`owner=${OWNER}&status=SUCCEEDED&stage=final`)).toEqual(['ok-1']);
      expect(await ids('owner=someone-else')).toEqual([]);
      expect(await ids('id=conflict-1')).toEqual(['conflict-1']);
      expect(await ids(`transactionId=${idOf('declined-1')}`)).toEqual(['declined-1']);
    });

    it('filters by request time', async () => {
      const all = await get<Page<SupportView & { createdAt: string }>>('/v1/support/transactions');
      const declined = all.items.find((t) => t.id === 'declined-1')!;
      const conflict = all.items.find((t) => t.id === 'conflict-1')!;
      expect(
        await ids(
          `from=${encodeURIComponent(declined.createdAt)}&to=${encodeURIComponent(conflict.createdAt)}`,
        ),
      ).toEqual(['declined-1']);
      expect(await ids('to=2000-01-01T00:00:00Z')).toEqual([]);
    });

    it('pages with a cursor', async () => {
      const first = await get<Page<SupportView>>('/v1/support/transactions?limit=3');
      expect(first.items.map((t) => t.id)).toEqual(['conflict-2', 'conflict-1', 'declined-1']);
      const second = await get<Page<SupportView>>(
        `/v1/support/transactions?limit=3&cursor=${first.nextCursor}`,
      );
      expect(second).toMatchObject({ items: [{ id: 'ok-1' }], nextCursor: null });
    });

    it('refuses unknown and invalid parameters', async () => {
      for (const query of ['colour=red', 'stage=lost', 'from=yesterday', 'limit=0']) {
        expectProblem(
          await service.call('GET', `/v1/support/transactions?${query}`, { token: support }),
          400,
          'validation-failed',
        );
      }
    });
  });

  it('lists the open cases in the queue, oldest first, with the reason', async () => {
    const queue = await get<Page<QueueItem>>('/v1/support/reconciliation');
    expect(queue.items.map((t) => [t.id, t.reason, t.reconciliation])).toEqual([
      ['conflict-1', 'needs_reconciliation', 'conflicting_reports'],
      ['conflict-2', 'needs_reconciliation', 'conflicting_reports'],
    ]);
    const firstPage = await get<Page<QueueItem>>('/v1/support/reconciliation?limit=1');
    expect(firstPage.items.map((t) => t.id)).toEqual(['conflict-1']);
    const secondPage = await get<Page<QueueItem>>(
      `/v1/support/reconciliation?limit=1&cursor=${firstPage.nextCursor}`,
    );
    expect(secondPage.items.map((t) => t.id)).toEqual(['conflict-2']);
  });

  it('counts what was created in the stats', async () => {
    const stats = await get<{
      transactions: number;
      byStatus: Record<string, number>;
      byStage: Record<string, number>;
      timeToFinal: { belowSeconds: number | null; count: number }[];
      statusChecks: { total: number; mean: number; max: number };
      providerAttempts: Record<string, number>;
      finalStatusSources: Record<string, number>;
    }>('/v1/support/stats');
    expect(stats).toMatchObject({
      transactions: 4,
      byStatus: { SUCCEEDED: 3, FAILED: 1 },
      byStage: { final: 2, needs_reconciliation: 2 },
      providerAttempts: { '1': 4 },
      // The first to speak wins: the POST's answer or the webhook, whichever arrived first.
      statusChecks: { total: 0, mean: 0, max: 0 },
    });
    const sources = Object.values(stats.finalStatusSources).reduce((a, b) => a + b, 0);
    expect(sources).toBe(4);
    expect(stats.timeToFinal.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(4);
    expect(stats.timeToFinal.map((b) => b.belowSeconds)).toEqual([1, 5, 15, 60, 300, 900, null]);
  });

  it('refuses to resolve a healthy final transaction (409), leaving it unchanged', async () => {
    const before = await supportView('ok-1');
    const response = await service.call(
      'POST',
      `/v1/support/transactions/${idOf('ok-1')}/resolution`,
      { token: support, body: { status: 'FAILED', note: 'customer says so' } },
    );
    expectProblem(response, 409, 'resolution-not-allowed');
    expect(await supportView('ok-1')).toEqual(before);
    const stream = await streamOf(service, idOf('ok-1'));
    expect(stream.map((e) => e.type)).not.toContain('ResolvedBySupport');
  });

  it('answers 404 when resolving an unknown transaction, and 400 for a bad body', async () => {
    expectProblem(
      await service.call('POST', `/v1/support/transactions/${idOf('nope')}/resolution`, {
        token: support,
        body: { status: 'FAILED', note: 'x' },
      }),
      404,
      'not-found',
    );
    for (const body of [
      { status: 'PENDING', note: 'x' },
      { status: 'FAILED', note: '' },
      { status: 'FAILED', note: 'x'.repeat(501) },
      { status: 'FAILED', note: 'x', extra: true },
    ]) {
      expectProblem(
        await service.call('POST', `/v1/support/transactions/${idOf('conflict-1')}/resolution`, {
          token: support,
          body,
        }),
        400,
        'validation-failed',
      );
    }
  });

  it('resolves a conflicting case: new status from support, actor and note in the event', async () => {
    const response = await service.call(
      'POST',
      `/v1/support/transactions/${idOf('conflict-1')}/resolution`,
      {
        token: support,
        body: { status: 'FAILED', note: 'provider dashboard shows declined' },
        headers: { 'x-request-id': 'resolve-conflict-1' },
      },
    );
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: 'conflict-1',
      status: 'FAILED',
      stage: 'final',
      finalStatusSource: 'support',
      reconciliation: null,
    });

    const last = (await streamOf(service, idOf('conflict-1'))).at(-1)!;
    expect(last).toMatchObject({
      type: 'ResolvedBySupport',
      data: {
        status: 'FAILED',
        previousStatus: 'SUCCEEDED',
        reconciliation: 'conflicting_reports',
        note: 'provider dashboard shows declined',
        providerStatus: null,
      },
      metadata: { actor: 'support:sam', correlationId: 'resolve-conflict-1' },
    });
    // Read-your-writes, for support and for the customer; the case left the queue.
    expect(await supportView('conflict-1')).toMatchObject({ status: 'FAILED' });
    expect(await get('/v1/transactions/conflict-1', customer)).toMatchObject({
      status: 'FAILED',
      finalStatusSource: 'support',
    });
    const queue = await get<Page<QueueItem>>('/v1/support/reconciliation');
    expect(queue.items.map((t) => t.id)).toEqual(['conflict-2']);
    // Settled once: a second resolution is refused.
    expectProblem(
      await service.call('POST', `/v1/support/transactions/${idOf('conflict-1')}/resolution`, {
        token: support,
        body: { status: 'SUCCEEDED', note: 'changed my mind' },
      }),
      409,
      'resolution-not-allowed',
    );
  });

  it('asks the provider first when told to, counted in its status checks', async () => {
    const id = idOf('conflict-2');
    const checksBefore = simulator.truth().transactions.find((t) => t.id === id)!.statusChecks;
    let response: HttpResponse;
    // The budget is shared with the process manager: a refusal says when to come back.
    for (let tries = 0; ; tries++) {
      response = await service.call('POST', `/v1/support/transactions/${id}/resolution`, {
        token: support,
        body: { status: 'SUCCEEDED', note: 'provider says completed', checkProviderFirst: true },
      });
      if (response.status !== 429 || tries >= 5) break;
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'SUCCEEDED', finalStatusSource: 'support' });

    const checksAfter = simulator.truth().transactions.find((t) => t.id === id)!.statusChecks;
    expect(checksAfter.found).toBe(checksBefore.found + 1);
    expect(checksAfter.atSeconds).toHaveLength(checksBefore.atSeconds.length + 1);
    expect((await streamOf(service, id)).at(-1)).toMatchObject({
      type: 'ResolvedBySupport',
      data: { providerStatus: 'completed', note: 'provider says completed' },
      metadata: { actor: 'support:sam' },
    });
  });

  it('a contradicting webhook replayed after the case was settled changes nothing and does not reopen it', async () => {
    const id = idOf('replayed-1');
    simulator.script({
      forceOutcomes: { [id]: 'ok-completed' },
      webhookBehaviour: { [id]: 'none' },
    });
    await service.call('POST', '/v1/transactions', {
      token: customer,
      body: { id: 'replayed-1', amount: 700, currency: 'KES', recipient: 'dan' },
    });
    await until(
      () => supportView('replayed-1'),
      (view) => view.status === 'SUCCEEDED',
    );
    const webhookPath = new URL(new WebhookUrls(service.config).urlFor(id)).pathname;
    const contradict = () =>
      service.call('POST', webhookPath, { body: { id, status: 'declined' } });

    expect((await contradict()).body).toEqual({ received: true, recorded: true });
    const resolved = await service.call('POST', `/v1/support/transactions/${id}/resolution`, {
      token: support,
      body: { status: 'SUCCEEDED', note: 'provider dashboard shows completed' },
    });
    expect(resolved.status).toBe(200);
    const settled = await streamOf(service, id);

    for (let replay = 0; replay < 20; replay++) {
      const answer = await contradict();
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ received: true, recorded: false });
    }
    expect(await streamOf(service, id)).toHaveLength(settled.length);
    expect(await supportView('replayed-1')).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'final',
      reconciliation: null,
      conflicts: 1,
    });
    const queue = await get<Page<QueueItem>>('/v1/support/reconciliation');
    expect(queue.items.map((t) => t.id)).not.toContain('replayed-1');
  });
});

describe('the reconciliation queue when the provider never answers', () => {
  let service: ServiceHarness;
  let support: string;
  let customer: string;

  beforeAll(async () => {
    service = await ServiceHarness.start({
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      RECONCILIATION_DEADLINE_MS: '500',
      RECONCILIATION_PENDING_AGE_MS: '1',
      WORKER_POLL_INTERVAL_MS: '20',
    });
    support = await service.token('sam', ['support']);
    customer = await service.token('gina');
    await service.fund({ owner: 'gina', currency: 'KES' });
  });

  afterAll(() => service?.close());

  const queue = async () =>
    (await service.call('GET', '/v1/support/reconciliation', { token: support }))
      .body as Page<QueueItem>;

  it('holds a past-deadline case and a merely old pending one, oldest first, each with its reason, and resolves the case', async () => {
    const create = (id: string) =>
      service.call('POST', '/v1/transactions', {
        token: customer,
        body: { id, amount: 1, currency: 'KES', recipient: 'bob' },
      });
    await create('stuck-1');
    await until(queue, (q) => q.items[0]?.reason === 'needs_reconciliation', 5_000);
    await create('stuck-2');
    await new Promise((resolve) => setTimeout(resolve, 20));

    const listed = await queue();
    expect(listed.items.map((t) => [t.id, t.reason, t.reconciliation, t.status])).toEqual([
      ['stuck-1', 'needs_reconciliation', 'deadline_exceeded', 'PENDING'],
      ['stuck-2', 'pending_too_long', null, 'PENDING'],
    ]);

    const resolved = await service.call(
      'POST',
      `/v1/support/transactions/${transactionIdFor('gina', 'stuck-1')}/resolution`,
      { token: support, body: { status: 'FAILED', note: 'provider has no record' } },
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'FAILED', failureReason: 'resolved_by_support' });
    // A transaction that is only old has no case to settle.
    expectProblem(
      await service.call(
        'POST',
        `/v1/support/transactions/${transactionIdFor('gina', 'stuck-2')}/resolution`,
        { token: support, body: { status: 'FAILED', note: 'impatient' } },
      ),
      409,
      'resolution-not-allowed',
    );
  });

  it('lists a parked process-manager step with its error, and puts it back on request', async () => {
    await service.call('POST', '/v1/transactions', {
      token: customer,
      body: { id: 'parked-1', amount: 1, currency: 'KES', recipient: 'bob' },
    });
    const transactionId = transactionIdFor('gina', 'parked-1');
    // Another instance on the same work store takes the transaction's next step and gives up on
    // it, as the worker does after WORKER_MAX_STEP_FAILURES unexpected errors in a row.
    const otherInstance = new SqliteWorkStore({ path: join(service.dataDir, 'work.sqlite') });
    try {
      const step = await until(
        async () =>
          (await otherInstance.claimDue('other', Date.now() + 86_400_000, 60_000, 100)).find(
            (work) => work.transactionId === transactionId,
          ),
        (work) => work !== undefined,
        5_000,
      );
      await otherInstance.park(step!, Date.now(), 'provider answer not understood');

      const listed = await service.call('GET', '/v1/support/parked-work', { token: support });
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([
        expect.objectContaining({
          transactionId,
          kind: step!.kind,
          reason: 'provider answer not understood',
        }),
      ]);
      expect(await otherInstance.pending(transactionId)).toContainEqual(
        expect.objectContaining({ kind: step!.kind }),
      );

      const retry = (kind: string, id = transactionId, token = support) =>
        service.call('POST', `/v1/support/parked-work/${id}/${kind}/retry`, { token });
      expectProblem(await retry(step!.kind, transactionId, customer), 403, 'forbidden');
      expectProblem(await retry('explode'), 400, 'validation-failed');
      expectProblem(await retry(step!.kind, 'not-a-uuid'), 400, 'validation-failed');

      expect((await retry(step!.kind)).status).toBe(204);
      expect(
        (await service.call('GET', '/v1/support/parked-work', { token: support })).body,
      ).toEqual([]);
      expectProblem(await retry(step!.kind), 404, 'not-found');
    } finally {
      await otherInstance.close();
    }
  });
});
