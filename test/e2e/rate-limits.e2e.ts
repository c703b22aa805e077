import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { request } from 'undici';
import { createApp } from '../../src/app.factory';
import { signingSecret } from '../../src/auth/signing-key';
import { issueToken } from '../../src/auth/token-issuer';
import { AppConfig } from '../../src/config/app-config';
import { SettableClock } from '../../src/event-store/event-store.contract';
import { WebhookUrls } from '../../src/provider-webhooks/webhook-urls';
import { SyncedCallerCounts } from '../../src/rate-limit/synced-caller-counts';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { freePort } from '../support/service-harness';

const WINDOW_MS = 60_000;

const windowStartNow = () => Date.now() - (Date.now() % WINDOW_MS);

/** The service with small limits and a clock the test moves: no sleeping through a window. */
describe('rate limits per principal and per client address', () => {
  let app: NestFastifyApplication;
  let baseUrl: string;
  let config: AppConfig;
  let dataDir: string;
  // At the start of a window: windows are multiples of their length, on every instance alike.
  const clock = new SettableClock(new Date(windowStartNow()));
  const advance = (ms: number) => clock.set(new Date(clock.now().getTime() + ms));

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-rate-limits-'));
    const port = await freePort();
    config = AppConfig.fromEnvironment({
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      PORT: String(port),
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      RATE_LIMIT_PER_PRINCIPAL: '3',
      RATE_LIMIT_PER_ADDRESS: '2',
      RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
    });
    app = await createApp(config, { clock, logger: pino({ level: 'silent' }) });
    await app.listen({ port, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const tokenFor = (subject: string) =>
    issueToken(config, signingSecret(config)!, { subject, roles: [], expiresIn: '1h' });

  async function call(
    method: 'GET' | 'POST',
    path: string,
    authorization?: string,
    forwardedFor?: string,
  ) {
    const response = await request(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      body: method === 'POST' ? JSON.stringify({ id: 'x', status: 'completed' }) : undefined,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text };
  }

  function expectRateLimited(response: Awaited<ReturnType<typeof call>>, retryAfter: number) {
    expect(response.status).toBe(429);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['retry-after']).toBe(String(retryAfter));
    expect(JSON.parse(response.text)).toMatchObject({
      type: 'urn:payment-ledger:problem:rate-limited',
      status: 429,
    });
  }

  it('limits each token subject on its own, says when to come back, and lets it back in then', async () => {
    const alice = `Bearer ${await tokenFor('alice')}`;
    const bob = `Bearer ${await tokenFor('bob')}`;
    for (let i = 0; i < 3; i++)
      expect((await call('GET', '/v1/transactions', alice)).status).toBe(200);
    advance(20_000);
    expectRateLimited(await call('GET', '/v1/transactions', alice), 40);
    // Someone else, and probes, are not affected.
    expect((await call('GET', '/v1/transactions', bob)).status).toBe(200);
    expect((await call('GET', '/health/live')).status).toBe(200);

    advance(40_000);
    expect((await call('GET', '/v1/transactions', alice)).status).toBe(200);
  });

  it('counts refused tokens and signed webhooks per client address, a forged token cannot spend its subject’s allowance, and a forged capability URL is refused before counting', async () => {
    const carol = `Bearer ${await tokenFor('carol')}`;
    const forgedCarol = `Bearer ${await issueToken(config, new TextEncoder().encode('f'.repeat(40)), { subject: 'carol', roles: [], expiresIn: '1h' })}`;
    // Forged capability URLs cost one HMAC each and spend nothing.
    for (let i = 0; i < 5; i++) {
      expect((await call('POST', '/v1/provider/webhooks/not-a-uuid/nope')).status).toBe(401);
    }
    expect((await call('GET', '/v1/transactions', forgedCarol)).status).toBe(401);
    expect((await call('GET', '/v1/transactions')).status).toBe(401);
    expectRateLimited(await call('GET', '/v1/transactions'), 60);
    expectRateLimited(await call('POST', '/v1/provider/webhooks'), 60);
    // Without TRUST_PROXY, a client cannot name another address to escape its own.
    expectRateLimited(await call('GET', '/v1/transactions', undefined, '198.51.100.9'), 60);
    expect((await call('GET', '/v1/transactions', carol)).status).toBe(200);

    // A genuine capability URL counts against its transaction, not the spent address.
    const genuine = new URL(app.get(WebhookUrls).urlFor(transactionIdFor('carol', 'rl-1')))
      .pathname;
    for (let i = 0; i < 3; i++) expect((await call('POST', genuine)).status).not.toBe(429);
    expectRateLimited(await call('POST', genuine), 60);

    advance(WINDOW_MS);
    expect((await call('GET', '/v1/transactions')).status).toBe(401);
  });
});

/**
 * Two instances on one data folder, as behind nginx on one machine: they share the counters in
 * rate-limits.sqlite. Their timers are set beyond the test's length; the test syncs each itself.
 */
describe('rate limits shared by two instances on one data folder', () => {
  let dataDir: string;
  const clock = new SettableClock(new Date(windowStartNow()));
  const instances: { app: NestFastifyApplication; baseUrl: string }[] = [];
  let config: AppConfig;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-shared-limits-'));
    const providerUrl = `http://127.0.0.1:${await freePort()}`;
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      config = AppConfig.fromEnvironment({
        LOG_LEVEL: 'silent',
        DATA_DIR: dataDir,
        PORT: String(port),
        PROVIDER_URL: providerUrl,
        RATE_LIMIT_PER_PRINCIPAL: '3',
        RATE_LIMIT_PER_ADDRESS: '1000',
        RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
        RATE_LIMIT_SYNC_MS: '60000',
      });
      const app = await createApp(config, { clock, logger: pino({ level: 'silent' }) });
      await app.listen({ port, host: '127.0.0.1' });
      instances.push({ app, baseUrl: `http://127.0.0.1:${port}` });
    }
  });

  afterAll(async () => {
    for (const { app } of instances) await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const syncBoth = async () => {
    for (const { app } of instances) await app.get(SyncedCallerCounts).sync();
  };

  async function list(instance: number, subject: string) {
    const token = await issueToken(config, signingSecret(config)!, {
      subject,
      roles: [],
      expiresIn: '1h',
    });
    const response = await request(`${instances[instance].baseUrl}/v1/transactions`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await response.body.text();
    return { status: response.statusCode, retryAfter: response.headers['retry-after'] };
  }

  it('refuses on the second instance a caller that spent its allowance on the first, once both have synced', async () => {
    for (let i = 0; i < 3; i++) expect((await list(0, 'dave')).status).toBe(200);
    expect((await list(0, 'dave')).status).toBe(429);

    await syncBoth();
    expect(await list(1, 'dave')).toEqual({ status: 429, retryAfter: '60' });

    clock.set(new Date(clock.now().getTime() + WINDOW_MS));
    expect((await list(1, 'dave')).status).toBe(200);
  });

  it('lets through, until the next sync, what the other instance has not heard of yet', async () => {
    for (let i = 0; i < 3; i++) expect((await list(0, 'erin')).status).toBe(200);
    expect((await list(1, 'erin')).status).toBe(200);

    await syncBoth();
    expect((await list(1, 'erin')).status).toBe(429);
    expect((await list(0, 'erin')).status).toBe(429);
  });
});

/** Behind nginx every client arrives from the proxy's address; TRUST_PROXY says whom to believe. */
describe('rate limits per client address behind a trusted proxy', () => {
  let app: NestFastifyApplication;
  let baseUrl: string;
  let dataDir: string;
  const clock = new SettableClock(new Date(windowStartNow()));

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-proxied-limits-'));
    const port = await freePort();
    const config = AppConfig.fromEnvironment({
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      PORT: String(port),
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      RATE_LIMIT_PER_ADDRESS: '2',
      RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
      // The test connects from loopback, as nginx would from its own address.
      TRUST_PROXY: 'loopback',
    });
    app = await createApp(config, { clock, logger: pino({ level: 'silent' }) });
    await app.listen({ port, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const statusFor = async (forwardedFor: string) => {
    const response = await request(`${baseUrl}/v1/transactions`, {
      headers: { 'x-forwarded-for': forwardedFor },
    });
    await response.body.dump();
    return response.statusCode;
  };

  it('counts each client the proxy forwards for on its own, not the proxy as one caller', async () => {
    expect(await statusFor('203.0.113.7')).toBe(401);
    expect(await statusFor('203.0.113.7')).toBe(401);
    expect(await statusFor('203.0.113.7')).toBe(429);
    // Another client behind the same proxy keeps its own allowance.
    expect(await statusFor('198.51.100.9')).toBe(401);
    // The address the proxy appended is the one counted, whatever the client put before it.
    expect(await statusFor('198.51.100.9, 203.0.113.7')).toBe(429);
  });
});
