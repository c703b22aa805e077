import { Writable } from 'node:stream';
import pino from 'pino';
import { request } from 'undici';
import { WebhookUrls } from '../../src/provider-webhooks/webhook-urls';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { ServiceHarness, freePort } from '../support/service-harness';

describe('the service log', () => {
  let service: ServiceHarness;
  let alice: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    const logBuffer = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    service = await ServiceHarness.start(
      { PROVIDER_URL: `http://127.0.0.1:${await freePort()}`, SERVICE_ROLE: 'api' },
      pino({ level: 'trace' }, logBuffer),
    );
    alice = await service.token('alice');
  });

  afterAll(() => service.close());

  it('carries no capability token and no Authorization header', async () => {
    const transactionId = transactionIdFor('alice', 'logged');
    const capabilityUrl = new URL(new WebhookUrls(service.config).urlFor(transactionId));
    const token = capabilityUrl.pathname.split('/').at(-1)!;
    const reports = [capabilityUrl.pathname, `${capabilityUrl.pathname}?again=1`];
    for (const path of reports) {
      await request(`${service.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
        body: JSON.stringify({ id: transactionId, status: 'completed' }),
      }).then((response) => response.body.text());
    }
    await service.call('GET', `${capabilityUrl.pathname}%zz`, { token: alice });
    await service.call('GET', '/v1/transactions/logged', { token: alice });

    const log = logLines.join('');
    expect(log).not.toContain(token);
    expect(log).not.toContain(alice);
    expect(log).toContain(`/v1/provider/webhooks/${transactionId}/[redacted]`);
    expect(log).toContain('/v1/transactions/logged');
  });
});
