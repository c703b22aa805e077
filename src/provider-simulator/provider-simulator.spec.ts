import { randomBytes } from 'node:crypto';
import { createServer, IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import {
  ProviderSimulatorStartOptions,
  RunningProviderSimulator,
  startProviderSimulator,
} from './provider-simulator';

type Answer = { status: number; headers: IncomingHttpHeaders; text: string };
type ReceivedWebhook = { body: string; headers: IncomingHttpHeaders };
type Receiver = { url: string; received: ReceivedWebhook[] };

const running: RunningProviderSimulator[] = [];
const closeReceivers: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Simulators first: their keep-alive webhook connections would hold the receivers open.
  await Promise.all(running.splice(0).map((simulator) => simulator.close()));
  await Promise.all(closeReceivers.splice(0).map((close) => close()));
});

/** A simulator without the status budget or random webhooks, unless a test asks for them. */
async function simulator(
  options: ProviderSimulatorStartOptions = {},
): Promise<RunningProviderSimulator> {
  const started = await startProviderSimulator({
    seed: 7,
    statusBudget: null,
    webhookShare: 0,
    ...options,
  });
  running.push(started);
  return started;
}

/** A webhook receiver answering `statusCodes` in turn, then 200. */
async function receiver(statusCodes: number[] = []): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.statusCode = statusCodes[received.length - 1] ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeReceivers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/provider`,
    received,
  };
}

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  options: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await request(url, {
    method,
    headers: {
      ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.json === undefined ? options.body : JSON.stringify(options.json),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

const submit = (sim: RunningProviderSimulator, id: string, webhookUrl: string) =>
  call('POST', `${sim.url}/transaction`, { json: { id, webhookUrl } });

const checkStatus = (sim: RunningProviderSimulator, id: string, headers?: Record<string, string>) =>
  call('GET', `${sim.url}/transaction/${encodeURIComponent(id)}`, { headers });

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Real milliseconds for `seconds` of provider time. */
const real = (sim: RunningProviderSimulator, seconds: number) =>
  seconds * 1000 * sim.options.timeScale;

/** Node fires timers to within about a millisecond of real time, early or late. */
const timerPrecisionSeconds = (sim: RunningProviderSimulator) => 0.002 / sim.options.timeScale;

const unusedWebhookUrl = 'http://127.0.0.1:9/never-called';

describe('provider simulator over HTTP', () => {
  it('answers 200 with the final status after the delay; a check meanwhile sees pending', async () => {
    const sim = await simulator({
      timeScale: 0.01,
      responseDelaySeconds: { min: 20, max: 20 },
      forceOutcomes: { 'tx-ok': 'ok-completed' },
    });
    const startedAt = performance.now();
    const answering = submit(sim, 'tx-ok', unusedWebhookUrl);
    await waitFor(() => sim.truth().totals.submissions === 1, 'the POST');

    const whileWaiting = await checkStatus(sim, 'tx-ok');
    expect(whileWaiting.status).toBe(200);
    expect(JSON.parse(whileWaiting.text)).toEqual({
      id: 'tx-ok',
      status: 'pending',
      webhookUrl: unusedWebhookUrl,
    });

    const answer = await answering;
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(real(sim, 20) - 5);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      id: 'tx-ok',
      status: 'completed',
      webhookUrl: unusedWebhookUrl,
    });
    expect(JSON.parse((await checkStatus(sim, 'tx-ok')).text)).toMatchObject({
      status: 'completed',
    });
    const [submission] = sim.truth().transactions[0].submissions;
    expect(submission).toMatchObject({ attempt: 1, scripted: true, responseStatusCode: 200 });
    expect(submission.finalAtSeconds).toBeCloseTo(submission.respondedAtSeconds!, 1);
  });

  it('answers 504, then shows the record already final within 30-120 s, and sends no webhook', async () => {
    const hooks = await receiver();
    const sim = await simulator({
      timeScale: 0.002,
      webhookShare: 1,
      forceOutcomes: { 'tx-late': 'late-declined' },
    });
    const startedAt = performance.now();
    let answer: Answer | undefined;
    void submit(sim, 'tx-late', hooks.url).then((a) => (answer = a));

    const seen = new Set<string>();
    while (!seen.has('declined')) {
      const check = await checkStatus(sim, 'tx-late');
      seen.add(
        check.status === 404 ? 'not found' : (JSON.parse(check.text) as { status: string }).status,
      );
      if (performance.now() - startedAt > real(sim, 200)) throw new Error('never appeared');
    }
    expect([...seen].sort()).toEqual(['declined', 'not found']);
    await waitFor(() => answer !== undefined, 'the 504');
    expect(answer?.status).toBe(504);
    expect(answer?.text).toBe('Gateway Timeout');
    expect(answer?.headers['content-type']).toMatch(/^text\/plain/);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(real(sim, 30) - 5);

    await sleep(real(sim, 150) - (performance.now() - startedAt)); // past the whole window
    expect(hooks.received).toHaveLength(0);
    const truth = sim.truth();
    const [submission] = truth.transactions[0].submissions;
    if (submission.outcome.kind !== 'late') throw new Error('expected a late outcome');
    expect(submission.outcome.appearsAfterSeconds).toBeGreaterThanOrEqual(30);
    expect(submission.outcome.appearsAfterSeconds).toBeLessThanOrEqual(120);
    expect(submission.visibleAtSeconds).toBe(submission.finalAtSeconds);
    expect(submission.finalAtSeconds! - submission.receivedAtSeconds).toBeGreaterThanOrEqual(
      submission.outcome.appearsAfterSeconds - timerPrecisionSeconds(sim),
    );
    expect(truth.transactions[0].webhooks).toEqual([]);
    expect(truth.totals.webhookDeliveries.attempted).toBe(0);
  });

  it('answers 504 and then 404 forever when the transaction is lost', async () => {
    const sim = await simulator({ timeScale: 0.002, forceOutcomes: { 'tx-lost': 'lost' } });
    const startedAt = performance.now();
    const answer = await submit(sim, 'tx-lost', unusedWebhookUrl);
    expect(answer.status).toBe(504);
    while (performance.now() - startedAt < real(sim, 150)) {
      const check = await checkStatus(sim, 'tx-lost');
      expect(check.status).toBe(404);
      expect(check.text).toBe('');
      await sleep(10);
    }
    expect(sim.truth().transactions[0].submissions[0]).toMatchObject({
      outcome: { kind: 'lost' },
      visibleAtSeconds: null,
      responseStatusCode: 504,
    });
  });

  it('answers 404 with an empty body for an id it never saw', async () => {
    const sim = await simulator();
    const check = await checkStatus(sim, 'tx-unknown');
    expect(check.status).toBe(404);
    expect(check.text).toBe('');
    expect(check.headers['content-length']).toBe('0');
  });

  it('serves ids that need encoding in a path, up to the longest one accepted', async () => {
    const sim = await simulator({ timeScale: 0.001, p504: 0 });
    const ids = ['order/42 été ✓', 'ü'.repeat(1024)];
    for (const id of ids) {
      expect((await submit(sim, id, unusedWebhookUrl)).status).toBe(200);
      expect(JSON.parse((await checkStatus(sim, id)).text)).toMatchObject({ id });
    }
    expect((await submit(sim, 'x'.repeat(1025), unusedWebhookUrl)).status).toBe(400);
  });

  it('refuses a POST without a valid id and webhookUrl with 400', async () => {
    const sim = await simulator();
    const bodies = [
      { json: { webhookUrl: unusedWebhookUrl } },
      { json: { id: '', webhookUrl: unusedWebhookUrl } },
      { json: { id: 'tx-1', webhookUrl: 'ftp://127.0.0.1/hook' } },
      { json: { id: 'tx-1' } },
      { json: ['tx-1'] },
      { body: 'tx-1', headers: { 'content-type': 'text/plain' } },
    ];
    for (const body of bodies) {
      const answer = await call('POST', `${sim.url}/transaction`, body);
      expect(answer.status).toBe(400);
      expect(typeof (JSON.parse(answer.text) as { error?: unknown }).error).toBe('string');
    }
    expect(sim.truth().totals.submissions).toBe(0);
  });

  it('delivers one unsigned webhook with the answered status, and does not retry by default', async () => {
    const hooks = await receiver([500]);
    const sim = await simulator({ timeScale: 0.002, webhookShare: 1 });
    const answer = await submit(sim, 'tx-hook', hooks.url);
    const { status } = JSON.parse(answer.text) as { status: string };
    await waitFor(() => hooks.received.length === 1, 'the webhook');
    await sleep(real(sim, 60));

    expect(hooks.received).toHaveLength(1);
    expect(JSON.parse(hooks.received[0].body)).toEqual({ id: 'tx-hook', status });
    expect(hooks.received[0].headers['content-type']).toBe('application/json');
    expect(hooks.received[0].headers['webhook-signature']).toBeUndefined();
    const truth = sim.truth();
    expect(truth.transactions[0].webhooks).toEqual([
      expect.objectContaining({ delivery: 1, status, statusCode: 500, error: null }),
    ]);
    expect(truth.totals.webhookDeliveries).toEqual({ attempted: 1, succeeded: 0, failed: 1 });
  });

  it('retries a failed webhook with backoff when configured, and survives an unreachable receiver', async () => {
    const hooks = await receiver([500, 503]);
    const sim = await simulator({
      timeScale: 0.002,
      webhookShare: 1,
      webhookRetries: { count: 3, backoffSeconds: 5 },
    });
    await submit(sim, 'tx-retried', hooks.url);
    await submit(sim, 'tx-unreachable', unusedWebhookUrl);
    await waitFor(() => hooks.received.length === 3, 'three deliveries');
    await waitFor(
      () => sim.truth().totals.webhookDeliveries.attempted === 3 + 4,
      'all deliveries to the unreachable receiver',
    );
    await sleep(real(sim, 100));

    expect(hooks.received).toHaveLength(3);
    const [retried, unreachable] = sim.truth().transactions;
    expect(retried.webhooks.map((w) => [w.delivery, w.statusCode])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    expect(new Set(retried.webhooks.map((w) => w.messageId)).size).toBe(1);
    expect(
      retried.webhooks[1].sentAtSeconds - retried.webhooks[0].sentAtSeconds,
    ).toBeGreaterThanOrEqual(5 - timerPrecisionSeconds(sim));
    expect(unreachable.webhooks.map((w) => [w.delivery, w.statusCode])).toEqual([
      [1, null],
      [2, null],
      [3, null],
      [4, null],
    ]);
    expect(unreachable.webhooks.every((w) => typeof w.error === 'string')).toBe(true);
    expect((await checkStatus(sim, 'tx-unreachable')).status).toBe(200);
  });

  it('signs webhooks with Standard Webhooks when given a secret', async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const hooks = await receiver();
    const sim = await simulator({ timeScale: 0.002, webhookShare: 1, webhookSecret: secret });
    const answer = await submit(sim, 'tx-signed', hooks.url);
    await waitFor(() => hooks.received.length === 1, 'the webhook');

    const [{ body, headers }] = hooks.received;
    const signedHeaders = headers as Record<string, string>;
    expect(new Webhook(secret).verify(body, signedHeaders)).toEqual({
      id: 'tx-signed',
      status: (JSON.parse(answer.text) as { status: string }).status,
    });
    const otherSecret = `whsec_${randomBytes(24).toString('base64')}`;
    expect(() => new Webhook(otherSecret).verify(body, signedHeaders)).toThrow();
  });

  it('plays scripted webhook faults: a duplicate message and a contradicting status', async () => {
    const hooks = await receiver();
    const sim = await simulator({
      timeScale: 0.002,
      webhookSecret: `whsec_${randomBytes(24).toString('base64')}`,
      forceOutcomes: { 'tx-dup': 'ok-completed', 'tx-contra': 'ok-completed' },
      webhookBehaviour: { 'tx-dup': 'duplicate', 'tx-contra': 'contradicting' },
    });
    await Promise.all([submit(sim, 'tx-dup', hooks.url), submit(sim, 'tx-contra', hooks.url)]);
    await waitFor(() => hooks.received.length === 3, 'three webhooks');

    const byId = (id: string) =>
      hooks.received.filter((w) => (JSON.parse(w.body) as { id: string }).id === id);
    const duplicates = byId('tx-dup');
    expect(duplicates.map((w) => JSON.parse(w.body) as unknown)).toEqual([
      { id: 'tx-dup', status: 'completed' },
      { id: 'tx-dup', status: 'completed' },
    ]);
    expect(duplicates[0].headers['webhook-id']).toBe(duplicates[1].headers['webhook-id']);
    expect(byId('tx-contra').map((w) => JSON.parse(w.body) as unknown)).toEqual([
      { id: 'tx-contra', status: 'declined' },
    ]);
  });

  it('lets a second POST of an id overwrite the record, draw anew, and count', async () => {
    const sim = await simulator({
      timeScale: 0.01,
      p504: 0,
      forceOutcomes: { 'tx-twice': ['ok-completed', 'ok-declined'] },
    });
    expect(JSON.parse((await submit(sim, 'tx-twice', unusedWebhookUrl)).text)).toMatchObject({
      status: 'completed',
    });
    expect(JSON.parse((await checkStatus(sim, 'tx-twice')).text)).toMatchObject({
      status: 'completed',
    });
    expect(JSON.parse((await submit(sim, 'tx-twice', unusedWebhookUrl)).text)).toMatchObject({
      status: 'declined',
    });
    expect(JSON.parse((await checkStatus(sim, 'tx-twice')).text)).toMatchObject({
      status: 'declined',
    });
    await submit(sim, 'tx-drawn', unusedWebhookUrl);
    await submit(sim, 'tx-drawn', unusedWebhookUrl);

    const truth = sim.truth();
    expect(truth.transactions[0].submissions.map((s) => s.attempt)).toEqual([1, 2]);
    const [first, second] = truth.transactions[1].submissions;
    expect(second.outcome).not.toEqual(first.outcome);
    expect(truth.totals).toMatchObject({
      submissions: 4,
      idsSubmitted: 2,
      idsSubmittedMoreThanOnce: 2,
    });
  });

  it('keeps the newest POST of an id when an older one appears late', async () => {
    const sim = await simulator({
      timeScale: 0.002,
      forceOutcomes: { 'tx-retried-blindly': ['late-completed', 'ok-declined'] },
    });
    const startedAt = performance.now();
    const first = submit(sim, 'tx-retried-blindly', unusedWebhookUrl);
    await waitFor(() => sim.truth().totals.submissions === 1, 'the first POST');
    await submit(sim, 'tx-retried-blindly', unusedWebhookUrl);
    expect((await first).status).toBe(504);
    await sleep(real(sim, 150) - (performance.now() - startedAt));

    expect(JSON.parse((await checkStatus(sim, 'tx-retried-blindly')).text)).toMatchObject({
      status: 'declined',
    });
    const [late] = sim.truth().transactions[0].submissions;
    expect(late.visibleAtSeconds).toBeNull(); // its appearance came after the newer POST: ignored
  });

  it('gives the same outcomes for the same seed whatever the order of the POSTs', async () => {
    const options = { timeScale: 0.001, seed: 99 };
    const ids = Array.from({ length: 100 }, (_, index) => `tx-${index}`);
    const [forwards, backwards] = await Promise.all([simulator(options), simulator(options)]);
    await Promise.all([
      ...ids.map((id) => submit(forwards, id, unusedWebhookUrl)),
      ...[...ids].reverse().map((id) => submit(backwards, id, unusedWebhookUrl)),
    ]);
    const outcomes = (sim: RunningProviderSimulator) =>
      new Map(sim.truth().transactions.map((t) => [t.id, t.submissions[0].outcome]));
    expect(outcomes(backwards)).toEqual(outcomes(forwards));
    expect(new Set([...outcomes(forwards).values()].map((o) => o.kind))).toEqual(
      new Set(['ok', 'late', 'lost']),
    );
  });

  it('bans a caller over the status budget with 429 and Retry-After, then lets it back', async () => {
    const sim = await simulator({
      timeScale: 0.25,
      statusBudget: { requestsPerSecond: 3, banSeconds: 2 },
    });
    const statuses: number[] = [];
    let firstRefusal: Answer | undefined;
    for (let check = 0; check < 5; check += 1) {
      const answer = await checkStatus(sim, 'tx-polled');
      statuses.push(answer.status);
      firstRefusal ??= answer.status === 429 ? answer : undefined;
    }
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    // The 2 provider-second ban lasts 0.5 s here: Retry-After is real seconds, rounded up.
    expect(firstRefusal?.headers['retry-after']).toBe('1');
    expect((await checkStatus(sim, 'tx-polled', { 'x-client-id': 'another-client' })).status).toBe(
      404,
    );

    await sleep(real(sim, 2) + 20);
    expect((await checkStatus(sim, 'tx-polled')).status).toBe(404);
    const truth = sim.truth();
    expect(truth.callers['ip:127.0.0.1']).toMatchObject({ received: 6, rejected: 2, bans: 1 });
    expect(truth.callers['client:another-client']).toMatchObject({ received: 1, rejected: 0 });
    expect(truth.totals.statusChecks).toMatchObject({ received: 7, rejected: 2, bans: 1 });
    expect(truth.totals.statusChecks.maxInAnySecond).toBeGreaterThanOrEqual(4);
    expect(truth.transactions[0].statusChecks).toMatchObject({ notFound: 5, rejected: 2 });
  });

  it('takes scripts and resets over HTTP, and exposes the truth per id', async () => {
    const sim = await simulator({ timeScale: 0.002 });
    const scripted = await call('POST', `${sim.url}/_sim/script`, {
      json: { forceOutcomes: { 'tx-s': 'lost' }, webhookBehaviour: { 'tx-s': 'none' } },
    });
    expect(JSON.parse(scripted.text)).toEqual({
      forceOutcomes: { 'tx-s': 'lost' },
      webhookBehaviour: { 'tx-s': 'none' },
    });
    expect(
      (await call('POST', `${sim.url}/_sim/script`, { json: { forceOutcomes: { x: 'maybe' } } }))
        .status,
    ).toBe(400);

    expect((await submit(sim, 'tx-s', unusedWebhookUrl)).status).toBe(504);
    const truthOfId = await call('GET', `${sim.url}/_sim/truth/tx-s`);
    expect(JSON.parse(truthOfId.text)).toMatchObject({
      id: 'tx-s',
      submissions: [{ attempt: 1, scripted: true, outcome: { kind: 'lost' } }],
    });
    const allTruth = JSON.parse((await call('GET', `${sim.url}/_sim/truth`)).text) as {
      seed: number;
      totals: { submissions: number };
    };
    expect(allTruth).toMatchObject({ seed: 7, totals: { submissions: 1 } });

    const waiting = submit(sim, 'tx-s', unusedWebhookUrl);
    await waitFor(() => sim.truth().totals.submissions === 2, 'the second POST');
    expect((await call('POST', `${sim.url}/_sim/reset`)).status).toBe(204);
    expect(await waiting).toMatchObject({ status: 503, text: 'Simulator reset' });
    expect((await call('GET', `${sim.url}/_sim/truth/tx-s`)).status).toBe(404);
    expect(sim.truth().totals.submissions).toBe(0);
    await submit(sim, 'tx-s', unusedWebhookUrl);
    expect(sim.truth().transactions[0].submissions[0].scripted).toBe(false);
  });

  it('refuses fault periods it cannot play with 400 and a message naming the problem', async () => {
    const sim = await simulator();
    const refused = async (json: unknown) => {
      const answer = await call('POST', `${sim.url}/_sim/faults`, { json });
      expect(answer.status).toBe(400);
      return (JSON.parse(answer.text) as { error: string }).error;
    };
    expect(await refused([])).toMatch(/JSON object \{ "periods"/);
    expect(await refused({ periods: [{ fault: 'meteor', forSeconds: 5 }] })).toMatch(
      /fault must be one of slowPeriods, gatewayTimeouts, outages, rateLimitStorms/,
    );
    expect(await refused({ periods: [{ fault: 'outages', forSeconds: 0 }] })).toMatch(
      /periods\.0\.forSeconds: must be a number of provider seconds, more than 0/,
    );
    expect(await refused({ periods: [{ fault: 'slowPeriods', forSeconds: 5 }] })).toMatch(
      /periods\.0\.answerSeconds/,
    );
    expect(
      await refused({ periods: [{ fault: 'outages', forSeconds: 5, answerSeconds: 3 }] }),
    ).toMatch(/answerSeconds/);
    expect((await call('GET', `${sim.url}/_sim/faults`)).text).toMatch(/"plan":\{\}/);
  });

  it('plays scripted fault periods from now: slow answers, all 504s, an outage, a 429 storm', async () => {
    const sim = await simulator({ timeScale: 0.01, timeoutDelaySeconds: 1, p504: 0 });
    const faults = (periods: unknown[]) =>
      call('POST', `${sim.url}/_sim/faults`, { json: { periods } });

    const slow = await faults([{ fault: 'slowPeriods', forSeconds: 600, answerSeconds: 20 }]);
    expect(JSON.parse(slow.text)).toMatchObject({
      plan: { slowPeriods: { windows: [{ answerMs: 20_000 }] } },
    });
    expect((await submit(sim, 'tx-slow', unusedWebhookUrl)).status).toBe(200);
    expect(sim.truth().transactions[0].submissions[0].outcome).toMatchObject({
      kind: 'ok',
      responseDelaySeconds: 20,
    });

    await faults([
      { fault: 'gatewayTimeouts', forSeconds: 600 },
      { fault: 'outages', startInSeconds: 600, forSeconds: 600 },
    ]);
    expect((await submit(sim, 'tx-storm', unusedWebhookUrl)).status).toBe(504);

    await faults([{ fault: 'outages', forSeconds: 600 }]);
    await expect(submit(sim, 'tx-unreachable', unusedWebhookUrl)).rejects.toThrow();
    await expect(checkStatus(sim, 'tx-slow')).rejects.toThrow();
    expect(sim.truth().totals.submissions).toBe(2);

    await faults([{ fault: 'rateLimitStorms', forSeconds: 600, retryAfterSeconds: 100 }]);
    const refused = await checkStatus(sim, 'tx-slow');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    await faults([{ fault: 'rateLimitStorms', forSeconds: 600 }]);
    expect((await checkStatus(sim, 'tx-slow')).headers['retry-after']).toBeUndefined();

    expect((await call('DELETE', `${sim.url}/_sim/faults`)).status).toBe(204);
    expect((await checkStatus(sim, 'tx-slow')).status).toBe(200);
    expect((await submit(sim, 'tx-calm', unusedWebhookUrl)).status).toBe(200);
    expect(
      sim.truth().transactions.find((t) => t.id === 'tx-calm')?.submissions[0].outcome,
    ).toMatchObject({ kind: 'ok' });
    expect(sim.truth().transactions.find((t) => t.id === 'tx-slow')?.statusChecks).toMatchObject({
      found: 1,
      rejected: 2,
    });
  });

  it('closes at once, dropping the POSTs still waiting and their timers', async () => {
    const sim = await startProviderSimulator({ seed: 1, forceOutcomes: { 'tx-slow': 'lost' } });
    const answering = submit(sim, 'tx-slow', unusedWebhookUrl).then(
      () => 'answered',
      () => 'dropped',
    );
    await waitFor(() => sim.truth().totals.submissions === 1, 'the POST');
    const startedAt = performance.now();
    await sim.close();
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(await answering).toBe('dropped');
  });
});
