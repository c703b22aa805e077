import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../provider-simulator/provider-simulator';
import { HttpPaymentProvider } from './http-payment-provider';

/** A server that answers every request with one fixed response, for what the simulator never says. */
async function fixedServer(
  status: number,
  body: string,
  delayMs = 0,
  headers: Record<string, string> = {},
): Promise<Server> {
  const server = createServer((_request, response) => {
    setTimeout(
      () =>
        response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body),
      delayMs,
    ).unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** A send deadline that never passes during a test. */
const LATER = Date.parse('2100-01-01T00:00:00.000Z');

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function adapter(baseUrl: string, submitTimeoutMs = 2_000): HttpPaymentProvider {
  return new HttpPaymentProvider({
    baseUrl,
    submitTimeoutMs,
    statusTimeoutMs: 1_000,
    connections: 4,
  });
}

describe('HTTP payment provider adapter (reference protocol)', () => {
  let simulator: RunningProviderSimulator;
  let provider: HttpPaymentProvider;

  beforeAll(async () => {
    simulator = await startProviderSimulator({
      timeScale: 0.005,
      seed: 1,
      statusBudget: { requestsPerSecond: 2, banSeconds: 30 },
    });
    provider = adapter(simulator.url);
  });

  afterAll(async () => {
    await provider.close();
    await simulator.close();
  });

  it('takes a 200 as the final status and a later GET as the same record', async () => {
    simulator.script({ forceOutcomes: { 'tx-ok': 'ok-declined' } });
    expect(
      await provider.submit({
        providerId: 'tx-ok',
        webhookUrl: 'http://127.0.0.1:1/x',
        sendBy: LATER,
      }),
    ).toEqual({
      kind: 'final',
      status: 'declined',
    });
    expect(await provider.checkStatus('tx-ok')).toEqual({ kind: 'found', status: 'declined' });
  });

  it('takes a 504 as ambiguous, never as a failure', async () => {
    simulator.script({ forceOutcomes: { 'tx-504': 'lost' } });
    expect(
      await provider.submit({
        providerId: 'tx-504',
        webhookUrl: 'http://127.0.0.1:1/x',
        sendBy: LATER,
      }),
    ).toMatchObject({
      kind: 'ambiguous',
      reason: 'gateway_timeout',
    });
    expect(await provider.checkStatus('tx-504')).toEqual({ kind: 'not_found' });
  });

  it('reads a 429 with its Retry-After', async () => {
    // A fixed answer, not the simulator's ban: reaching a ban depends on how fast checks go.
    const server = await fixedServer(429, '{"error":"slow down"}', 0, { 'retry-after': '30' });
    const banned = adapter(urlOf(server));
    try {
      expect(await banned.checkStatus('nobody')).toEqual({
        kind: 'rate_limited',
        retryAfterMs: 30_000,
      });
    } finally {
      await banned.close();
      server.close();
    }
  });

  it('takes a refused connection as ambiguous (connection)', async () => {
    const closed = await fixedServer(200, '{}');
    const url = urlOf(closed);
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = adapter(url);
    expect(
      await unreachable.submit({ providerId: 'x', webhookUrl: 'http://h/x', sendBy: LATER }),
    ).toMatchObject({
      kind: 'ambiguous',
      reason: 'connection',
    });
    expect(await unreachable.checkStatus('x')).toMatchObject({ kind: 'error' });
    await unreachable.close();
  });

  it('never writes a submission past its send deadline: ambiguous (connection), and the provider receives nothing', async () => {
    let received = 0;
    const counting = createServer((_request, response) => {
      received += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => counting.listen(0, '127.0.0.1', resolve));
    const client = adapter(urlOf(counting));
    try {
      const outcome = await client.submit({
        providerId: 'x',
        webhookUrl: 'http://h/x',
        sendBy: Date.now() - 1,
      });
      expect(outcome).toMatchObject({ kind: 'ambiguous', reason: 'connection' });
      expect(outcome.kind === 'ambiguous' && outcome.detail).toContain('send deadline');
      // The same client sends a submission still inside its deadline: the server was reachable.
      await client.submit({ providerId: 'x', webhookUrl: 'http://h/x', sendBy: LATER });
      expect(received).toBe(1);
    } finally {
      await client.close();
      await new Promise((resolve) => counting.close(resolve));
    }
  });

  it('takes no answer within the submission timeout as ambiguous (timeout)', async () => {
    // undici's timeout timers tick about once a second, hence the long answer.
    const slow = await fixedServer(200, '{"id":"x","status":"completed"}', 3_000);
    const impatient = adapter(urlOf(slow), 200);
    expect(
      await impatient.submit({ providerId: 'x', webhookUrl: 'http://h/x', sendBy: LATER }),
    ).toMatchObject({
      kind: 'ambiguous',
      reason: 'timeout',
    });
    await impatient.close();
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
  });

  it.each([
    ['a status it does not know', 200, '{"id":"x","status":"refunded"}'],
    ['another id', 200, '{"id":"y","status":"completed"}'],
    ['not JSON', 200, '<html>'],
    ['a 500', 500, '{"id":"x","status":"completed"}'],
  ])('takes %s as ambiguous on submit and an error on a check', async (_case, status, body) => {
    const odd = await fixedServer(status, body);
    const client = adapter(urlOf(odd));
    expect(
      await client.submit({ providerId: 'x', webhookUrl: 'http://h/x', sendBy: LATER }),
    ).toMatchObject({
      kind: 'ambiguous',
      reason: 'unexpected_response',
    });
    expect(await client.checkStatus('x')).toMatchObject({ kind: 'error' });
    await client.close();
    await new Promise((resolve) => odd.close(resolve));
  });
});
