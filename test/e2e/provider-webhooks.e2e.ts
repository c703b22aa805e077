import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { ServiceHarness, freePort } from '../support/service-harness';
import { until } from '../support/polling';

const PROVIDER_SECRET = `whsec_${Buffer.from('provider-signing-secret-0123456789').toString('base64')}`;
const CLIENT_SECRET = `whsec_${Buffer.from('client-callback-secret-0123456789').toString('base64')}`;

interface View {
  status: string;
  stage: string;
  finalStatusSource: string | null;
  reconciliation: string | null;
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** The client's backend: refuses the first delivery, accepts the rest. */
async function startClientReceiver(): Promise<{
  server: Server;
  url: string;
  deliveries: Delivery[];
}> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const answered = deliveries.length === 0 ? 500 : 204;
      deliveries.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/ledger-events`, deliveries };
}

describe('a provider that signs its webhooks, and final statuses delivered to the client', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;
  let receiver: Awaited<ReturnType<typeof startClientReceiver>>;
  let token: string;

  beforeAll(async () => {
    simulator = await startProviderSimulator({
      timeScale: SCALE,
      seed: 99,
      webhookSecret: PROVIDER_SECRET,
    });
    receiver = await startClientReceiver();
    service = await ServiceHarness.start({
      ...compressedServiceEnv(simulator.url),
      PROVIDER_WEBHOOK_SIGNING_SECRET: PROVIDER_SECRET,
      CLIENT_CALLBACK_URL: receiver.url,
      CLIENT_CALLBACK_SECRET: CLIENT_SECRET,
    });
    token = await service.token('frank');
    await service.fund({ owner: 'frank', currency: 'KES' });
  });

  afterAll(async () => {
    await service?.close();
    await simulator?.close();
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  const view = async (id: string) =>
    (await service.call('GET', `/v1/transactions/${id}`, { token })).body as View;

  async function submit(id: string): Promise<void> {
    const response = await service.call('POST', '/v1/transactions', {
      token,
      body: { id, amount: 300, currency: 'KES', recipient: 'bob' },
    });
    expect(response.status).toBe(202);
  }

  it('accepts signed webhooks (duplicates included) and delivers the final status to the client, retrying until acknowledged', async () => {
    const providerId = transactionIdFor('frank', 'signed-1');
    simulator.script({
      forceOutcomes: { [providerId]: 'ok-completed' },
      webhookBehaviour: { [providerId]: 'duplicate' },
    });
    await submit('signed-1');

    const truth = await until(
      async () => simulator.truth().transactions.find((t) => t.id === providerId),
      (t) => t?.webhooks.length === 2,
    );
    expect(truth?.webhooks.map((w) => w.statusCode)).toEqual([200, 200]);
    expect(await view('signed-1')).toMatchObject({ status: 'SUCCEEDED', reconciliation: null });

    await until(
      async () => receiver.deliveries.length,
      (n) => n >= 2,
    );
    expect(receiver.deliveries.map((d) => d.answered).slice(0, 2)).toEqual([500, 204]);
    const [first, second] = receiver.deliveries;
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    const verified = new Webhook(CLIENT_SECRET).verify(second.body, {
      'webhook-id': String(second.headers['webhook-id']),
      'webhook-timestamp': String(second.headers['webhook-timestamp']),
      'webhook-signature': String(second.headers['webhook-signature']),
    });
    expect(verified).toMatchObject({
      type: 'transaction.finalized',
      data: { id: 'signed-1', owner: 'frank', status: 'SUCCEEDED' },
    });
  });

  it('refuses an unsigned or badly signed report, even at the right capability URL', async () => {
    const providerId = transactionIdFor('frank', 'signed-2');
    simulator.script({ forceOutcomes: { [providerId]: 'late-completed' } });
    await submit('signed-2');
    const body = JSON.stringify({ id: providerId, status: 'declined' });
    const forged = await request(`${service.baseUrl}/v1/provider/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,bm90LWEtc2lnbmF0dXJl',
      },
      body,
    });
    expect(forged.statusCode).toBe(401);
    await forged.body.dump();
    const settled = await until(
      () => view('signed-2'),
      (v) => v.status !== 'PENDING',
    );
    expect(settled).toMatchObject({ status: 'SUCCEEDED', finalStatusSource: 'status_check' });
  });

  it('takes a correctly signed report at the fixed endpoint: a contradiction opens a case', async () => {
    const providerId = transactionIdFor('frank', 'signed-3');
    simulator.script({
      forceOutcomes: { [providerId]: 'ok-completed' },
      webhookBehaviour: { [providerId]: 'none' },
    });
    await submit('signed-3');
    await until(
      () => view('signed-3'),
      (v) => v.status !== 'PENDING',
    );
    const body = JSON.stringify({ id: providerId, status: 'declined' });
    const now = new Date();
    const post = (webhookId: string) =>
      request(`${service.baseUrl}/v1/provider/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': webhookId,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(PROVIDER_SECRET).sign(webhookId, now, body),
        },
        body,
      });
    const first = await post('msg_contradiction');
    expect(first.statusCode).toBe(200);
    expect(await first.body.json()).toEqual({ received: true, recorded: true });
    const again = await post('msg_contradiction');
    // The redelivery is recognised by its webhook-id: no second conflict report.
    expect(await again.body.json()).toEqual({ received: true, recorded: false });
    expect(await view('signed-3')).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'needs_reconciliation',
      reconciliation: 'conflicting_reports',
    });
  });
});

describe('a transaction the provider never settles', () => {
  it('is in the reconciliation queue once its deadline passes', async () => {
    const service = await ServiceHarness.start({
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      RECONCILIATION_DEADLINE_MS: '500',
      WORKER_POLL_INTERVAL_MS: '20',
    });
    try {
      const token = await service.token('gina');
      await service.fund({ owner: 'gina', currency: 'KES' });
      await service.call('POST', '/v1/transactions', {
        token,
        body: { id: 'stuck-1', amount: 1, currency: 'KES', recipient: 'bob' },
      });
      const settled = await until(
        async () => (await service.call('GET', '/v1/transactions/stuck-1', { token })).body as View,
        (v) => v.reconciliation !== null,
        5_000,
      );
      expect(settled).toMatchObject({
        status: 'PENDING',
        stage: 'needs_reconciliation',
        reconciliation: 'deadline_exceeded',
      });
    } finally {
      await service.close();
    }
  });
});
