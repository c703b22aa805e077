import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProviderSimulator } from '../../provider-simulator/provider-simulator';
import { SCALE } from '../../../test/support/compressed-time';
import { until } from '../../../test/support/polling';
import { describePaymentProviderContract } from '../payment-provider.contract';
import { HttpPaymentProvider } from './http-payment-provider';

/** A server that answers every request with one fixed response, for what the simulator never says. */
async function fixedServer(status: number, body: string, delayMs = 0): Promise<Server> {
  const server = createServer((_request, response) => {
    setTimeout(
      () => response.writeHead(status, { 'content-type': 'application/json' }).end(body),
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

const statusBudget = { requestsPerSecond: 2, banSeconds: 30 };

describePaymentProviderContract('HTTP adapter in front of the HTTP simulator on loopback', {
  async open(pace) {
    const simulator = await startProviderSimulator({
      timeScale: pace === 'reference' ? 1 : SCALE,
      seed: 1,
      statusBudget,
      responseDelaySeconds: { min: 10, max: 10 },
      lateAppearanceSeconds: { min: 120, max: 120 },
    });
    // Far beyond the simulator's compressed 504, so that its answer always comes first.
    const provider = adapter(simulator.url, 45_000);
    return {
      provider,
      forceOutcomes: (id, outcomes) => simulator.script({ forceOutcomes: { [id]: outcomes } }),
      settle: (operation) => operation,
      eventually: (read, done) => until(read, done),
      statusBudget,
      close: async () => {
        // The simulator first: it drops the POSTs still waiting, which the pool then gives up.
        await simulator.close();
        await provider.close();
      },
    };
  },
});

describe('HTTP payment provider adapter: answers the simulator never gives', () => {
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
    expect(await unreachable.checkStatus('x', LATER)).toMatchObject({ kind: 'error' });
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

  it('never writes a status check past its send deadline: not_sent, and the provider receives nothing', async () => {
    let received = 0;
    const counting = createServer((_request, response) => {
      received += 1;
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => counting.listen(0, '127.0.0.1', resolve));
    const client = adapter(urlOf(counting));
    try {
      expect(await client.checkStatus('x', Date.now() - 1)).toEqual({ kind: 'not_sent' });
      expect(await client.checkStatus('x', LATER)).toEqual({ kind: 'not_found' });
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

  it('on close, answers a submission still waiting at once as ambiguous (connection)', async () => {
    const silent = await fixedServer(200, '{"id":"x","status":"completed"}', 60_000);
    const client = adapter(urlOf(silent), 45_000);
    const waiting = client.submit({ providerId: 'x', webhookUrl: 'http://h/x', sendBy: LATER });
    await until(
      async () => new Promise<number>((resolve) => silent.getConnections((_e, n) => resolve(n))),
      (connections) => connections === 1,
    );

    await client.close();

    expect(await waiting).toMatchObject({ kind: 'ambiguous', reason: 'connection' });
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
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
    expect(await client.checkStatus('x', LATER)).toMatchObject({ kind: 'error' });
    await client.close();
    await new Promise((resolve) => odd.close(resolve));
  });
});
