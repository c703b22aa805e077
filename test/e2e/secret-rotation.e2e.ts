import { Webhook } from 'standardwebhooks';
import { issueToken } from '../../src/auth/token-issuer';
import { WebhookUrls } from '../../src/provider-webhooks/webhook-urls';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { ServiceHarness, freePort } from '../support/service-harness';

const OLD_JWT = 'old-jwt-secret-0123456789abcdefghijkl';
const NEW_JWT = 'new-jwt-secret-0123456789abcdefghijkl';
const OLD_URLS = 'old-webhook-url-secret-0123456789abcdef';
const NEW_URLS = 'new-webhook-url-secret-0123456789abcdef';
const whsec = (text: string) => `whsec_${Buffer.from(text).toString('base64')}`;
const OLD_SIGNING = whsec('old-provider-signing-secret-0123');
const NEW_SIGNING = whsec('new-provider-signing-secret-0123');

/**
 * The rotation procedure of the README, one restart per step: add the new secret in front, then
 * drop the old one. What was handed out under the old secret works until it is dropped.
 */
describe('rotating the token, webhook-URL and provider signing secrets', () => {
  let service: ServiceHarness;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    // No provider answers: transactions stay pending until a webhook reports on them.
    Object.assign(env, {
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      AUTH_JWT_SECRET: OLD_JWT,
      WEBHOOK_SECRET: OLD_URLS,
      PROVIDER_WEBHOOK_SIGNING_SECRET: OLD_SIGNING,
    });
    service = await ServiceHarness.start(env);
    await service.fund({ owner: 'rita', currency: 'KES' });
  });

  afterAll(() => service?.close());

  const tokenSignedWith = (secret: string) =>
    issueToken(service.config, new TextEncoder().encode(secret), {
      subject: 'rita',
      roles: [],
      expiresIn: '1h',
    });

  const create = async (token: string, clientId: string) =>
    service.call('POST', '/v1/transactions', {
      token,
      body: { id: clientId, amount: 10, currency: 'KES', recipient: 'bob' },
    });

  function signedReport(secret: string, transactionId: string, webhookId: string) {
    const body = JSON.stringify({ id: transactionId, status: 'completed' });
    const now = new Date();
    return {
      rawBody: body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(webhookId, now, body),
      },
    };
  }

  it('keeps accepting what the old secrets signed while they are listed, and refuses it once they are dropped', async () => {
    const oldToken = await tokenSignedWith(OLD_JWT);
    expect((await create(oldToken, 'before-1')).status).toBe(202);
    expect((await create(oldToken, 'before-2')).status).toBe(202);
    const before1 = transactionIdFor('rita', 'before-1');
    const before2 = transactionIdFor('rita', 'before-2');
    const urlBeforeRotation = (id: string) =>
      new URL(new WebhookUrls(service.config).urlFor(id)).pathname;
    const oldUrl1 = urlBeforeRotation(before1);
    const oldUrl2 = urlBeforeRotation(before2);

    // Step 1: the new secrets in front, the old ones still listed.
    Object.assign(env, {
      AUTH_JWT_SECRET: `${NEW_JWT},${OLD_JWT}`,
      WEBHOOK_SECRET: `${NEW_URLS},${OLD_URLS}`,
      PROVIDER_WEBHOOK_SIGNING_SECRET: `${NEW_SIGNING},${OLD_SIGNING}`,
    });
    await service.restart();
    const newUrl1 = new URL(new WebhookUrls(service.config).urlFor(before1)).pathname;
    expect(newUrl1).not.toBe(oldUrl1);
    expect(
      (await service.call('GET', '/v1/transactions/before-1', { token: oldToken })).status,
    ).toBe(200);
    const newToken = await tokenSignedWith(NEW_JWT);
    expect((await create(newToken, 'after-1')).status).toBe(202);
    const reportAtOldUrl = signedReport(OLD_SIGNING, before1, 'msg_old_1');
    const atOldUrl = await service.call('POST', oldUrl1, reportAtOldUrl);
    expect(atOldUrl.status).toBe(200);
    expect(atOldUrl.body).toEqual({ received: true, recorded: true });
    const signedWithNew = await service.call(
      'POST',
      '/v1/provider/webhooks',
      signedReport(NEW_SIGNING, transactionIdFor('rita', 'after-1'), 'msg_new_1'),
    );
    expect(signedWithNew.body).toEqual({ received: true, recorded: true });

    // Step 2: the old secrets dropped.
    Object.assign(env, {
      AUTH_JWT_SECRET: NEW_JWT,
      WEBHOOK_SECRET: NEW_URLS,
      PROVIDER_WEBHOOK_SIGNING_SECRET: NEW_SIGNING,
    });
    await service.restart();
    const refusedToken = await service.call('GET', '/v1/transactions/before-1', {
      token: oldToken,
    });
    expect(refusedToken.status).toBe(401);
    expect(refusedToken.headers['content-type']).toContain('application/problem+json');
    expect(
      (await service.call('GET', '/v1/transactions/before-1', { token: newToken })).body,
    ).toMatchObject({ status: 'SUCCEEDED' });

    const atRetiredUrl = await service.call(
      'POST',
      oldUrl2,
      signedReport(NEW_SIGNING, before2, 'msg_new_2'),
    );
    expect(atRetiredUrl.status).toBe(401);
    expect(atRetiredUrl.headers['content-type']).toContain('application/problem+json');
    const signedWithRetired = await service.call(
      'POST',
      '/v1/provider/webhooks',
      signedReport(OLD_SIGNING, before2, 'msg_old_2'),
    );
    expect(signedWithRetired.status).toBe(401);
    // Neither refused report changed anything.
    expect(
      (await service.call('GET', '/v1/transactions/before-2', { token: newToken })).body,
    ).toMatchObject({ status: 'PENDING' });
  });
});
