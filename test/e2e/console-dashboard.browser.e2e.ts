import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SqliteWorkStore } from '../../src/process-manager/sqlite/sqlite-work-store';
import type {
  ForcedOutcome,
  WebhookBehaviour,
} from '../../src/provider-simulator/provider-simulator.options';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import {
  describeInChromium,
  launchChromium,
  screenshotFolder,
  signedInConsole,
} from '../support/chromium';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { until } from '../support/polling';
import { ServiceHarness } from '../support/service-harness';

const describeInBrowser = describeInChromium('the console dashboard browser test');

/**
 * The console's dashboard over a real run: the simulator answers slowly (8 to 10 provider
 * seconds, in compressed time), transactions succeed, fail, come back late after a 504 and open
 * reconciliation cases; the page must chart what happened and read out the same numbers.
 */
describeInBrowser('the console dashboard in headless Chromium', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;
  let browser: Browser;
  let screenshots: { dir: string; remove(): void };
  let support: string;
  let customer: string;
  /** Uncaught page errors, Content-Security-Policy refusals and console errors: none expected. */
  const pageFaults: string[] = [];

  const OWNER = 'erin';
  const RUN: Record<string, { outcome: ForcedOutcome; webhook?: WebhookBehaviour }> = {
    'ok-1': { outcome: 'ok-completed', webhook: 'once' },
    'ok-2': { outcome: 'ok-completed', webhook: 'once' },
    'ok-3': { outcome: 'ok-completed' },
    'declined-1': { outcome: 'ok-declined' },
    'declined-2': { outcome: 'ok-declined', webhook: 'once' },
    // A 504, then the record appears: a status check finds it.
    'late-1': { outcome: 'late-completed' },
    // Confirmed, then contradicted by a webhook: two cases in the reconciliation queue.
    'conflict-1': { outcome: 'ok-completed', webhook: 'contradicting' },
    'conflict-2': { outcome: 'ok-completed', webhook: 'contradicting' },
  };

  async function request(clientId: string, outcome: ForcedOutcome, webhook?: WebhookBehaviour) {
    const id = transactionIdFor(OWNER, clientId);
    simulator.script({
      forceOutcomes: { [id]: outcome },
      ...(webhook ? { webhookBehaviour: { [id]: webhook } } : {}),
    });
    const created = await service.call('POST', '/v1/transactions', {
      token: customer,
      body: { id: clientId, amount: 300, currency: 'KES', recipient: 'fay' },
    });
    expect(created.status).toBe(202);
  }

  /** Support's search: the statuses of the owner's transactions once none is PENDING. */
  async function settledStatuses(count: number): Promise<string[]> {
    const page = await until(
      async () =>
        (
          await service.call('GET', `/v1/support/transactions?owner=${OWNER}&limit=100`, {
            token: support,
          })
        ).body as { items: { status: string }[] },
      (found) =>
        found.items.length === count && found.items.every((item) => item.status !== 'PENDING'),
      30_000,
    );
    return page.items.map((item) => item.status);
  }

  beforeAll(async () => {
    simulator = await startProviderSimulator({
      timeScale: SCALE,
      seed: 15,
      responseDelaySeconds: { min: 8, max: 10 },
    });
    service = await ServiceHarness.start({
      ...compressedServiceEnv(simulator.url),
      // Answers take 160 to 200 ms real here: slow from a p90 of 100 ms, judged from 3 answers.
      PROVIDER_HEALTH_SLOW_P90_MS: '100',
      PROVIDER_HEALTH_MIN_SUBMISSIONS: '3',
    });
    customer = await service.token(OWNER);
    support = await service.token('sam', ['support']);
    await service.fund({ owner: OWNER, currency: 'KES' });
    for (const [clientId, { outcome, webhook }] of Object.entries(RUN)) {
      await request(clientId, outcome, webhook);
    }
    const statuses = await settledStatuses(Object.keys(RUN).length);
    expect(statuses.filter((status) => status === 'FAILED')).toHaveLength(2);
    await until(
      async () =>
        (await service.call('GET', '/v1/support/reconciliation', { token: support })).body as {
          items: unknown[];
        },
      (queue) => queue.items.length === 2,
    );
    browser = await launchChromium();
    screenshots = screenshotFolder('console-dashboard-');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await simulator?.close();
    screenshots?.remove();
  });

  const text = (page: Page, id: string) => page.locator(`#${id}`).innerText();

  /** Signed in on the console; the console's errors (a failed request too) count as faults. */
  async function signedInWithConsoleErrors(): Promise<{ context: BrowserContext; page: Page }> {
    const opened = await signedInConsole(browser, service.baseUrl, support, pageFaults);
    opened.page.on('console', (message) => {
      if (message.type() === 'error') pageFaults.push(message.text());
    });
    return opened;
  }

  it('answers the series as JSON to support; refuses a bad window and other callers with problem+json', async () => {
    const answer = await service.call('GET', '/v1/support/dashboard?hours=2', { token: support });
    expect(answer.status).toBe(200);
    const dashboard = answer.body as {
      transactions: { perMinute: { succeeded: number; failed: number; pending: number }[] };
    };
    expect(dashboard.transactions.perMinute).toHaveLength(121);
    for (const hours of ['0', '25', '1.5', 'two']) {
      const refused = await service.call('GET', `/v1/support/dashboard?hours=${hours}`, {
        token: support,
      });
      expect(refused.status).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    const customerAsks = await service.call('GET', '/v1/support/dashboard', { token: customer });
    expect(customerAsks.status).toBe(403);
    const library = await service.call('GET', '/console/uPlot.esm.js');
    expect(library.status).toBe(200);
    expect(library.headers['content-type']).toContain('text/javascript');
    expect(library.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('charts the run from real data, reads out its numbers, says the provider is slow, and refreshes', async () => {
    const { context, page } = await signedInWithConsoleErrors();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('#transactions-figures').getByText('8 requested').waitFor();

    expect(await text(page, 'transactions-figures')).toBe(
      '8 requested in the window: 6 SUCCEEDED, 2 FAILED, 0 PENDING',
    );
    expect(await text(page, 'time-to-final-figures')).toMatch(/^8 final: /);
    expect(await text(page, 'provider-state')).toMatch(/^provider: slow since \d{2}:\d{2}/);
    const latency = /^8 submissions ended in the window; p90 at \d{2}:\d{2}: (\d+\.\d\d) s$/.exec(
      await text(page, 'latency-figures'),
    );
    // The simulator answered after 8 to 10 provider seconds: 160 ms real at least.
    expect(Number(latency?.[1])).toBeGreaterThanOrEqual(0.16);
    // The late one was answered 504, unless our own timeout came first on a loaded machine: its
    // events say which.
    const lateEvents = await service.call(
      'GET',
      `/v1/audit/transactions/${transactionIdFor(OWNER, 'late-1')}/events`,
      { token: await service.token('audrey', ['auditor']) },
    );
    const gatewayTimeouts = (
      lateEvents.body as { events: { type: string; data: { reason?: string } }[] }
    ).events.filter(
      (event) => event.type === 'ProviderTimedOut' && event.data.reason === 'gateway_timeout',
    ).length;
    expect(await text(page, 'gateway-figures')).toBe(
      `${gatewayTimeouts} of 8 submissions answered 504`,
    );
    const checks = /^(\d+) status checks in the window, 0 answered 429$/.exec(
      await text(page, 'checks-figures'),
    );
    // The late transaction was found by a status check.
    expect(Number(checks?.[1])).toBeGreaterThanOrEqual(1);
    expect(await text(page, 'queue-figures')).toMatch(/^2 in the queue now/);
    expect(await text(page, 'parked-figures')).toBe('No parked work.');

    // Every chart drawn by uPlot, over the window's 61 minutes (the queue: its samples).
    for (const chart of [
      'transactions',
      'time-to-final',
      'latency',
      'gateway',
      'checks',
      'queue',
    ]) {
      const container = page.locator(`[data-chart="${chart}"]`);
      expect(await container.locator('canvas').count()).toBe(1);
      expect(Number(await container.getAttribute('data-points'))).toBeGreaterThan(0);
    }
    expect(await page.locator('[data-chart="transactions"]').getAttribute('data-points')).toBe(
      '61',
    );
    expect(await page.locator('[data-chart="time-to-final"]').getAttribute('data-points')).toBe(
      '7',
    );

    const screenshot = join(screenshots.dir, 'support-dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);

    // A new transaction shows at the next refresh, without reloading the page.
    await request('ok-4', 'ok-completed', 'once');
    await page.locator('#transactions-figures').getByText('9 requested').waitFor();
    expect(pageFaults).toEqual([]);
    await context.close();
  });

  it('lists parked work with its error, as it is parked', async () => {
    const { context, page } = await signedInWithConsoleErrors();
    await page.goto(`${service.baseUrl}/console/dashboard.html`);
    await page.locator('#parked-figures').getByText('No parked work.').waitFor();

    // Never answered: nothing final ever replans its reconciliation deadline.
    await request('parked-1', 'lost');
    const transactionId = transactionIdFor(OWNER, 'parked-1');
    // Another instance on the same work store takes the transaction's deadline step and gives up
    // on it, as the worker does after WORKER_MAX_STEP_FAILURES unexpected errors in a row.
    const otherInstance = new SqliteWorkStore({ path: join(service.dataDir, 'work.sqlite') });
    try {
      const step = await until(
        async () =>
          (await otherInstance.claimDue('other', Date.now() + 86_400_000, 60_000, 100)).find(
            (work) => work.transactionId === transactionId && work.kind === 'deadline',
          ),
        (work) => work !== undefined,
        5_000,
      );
      await otherInstance.park(step!, Date.now(), 'provider answer not understood');
    } finally {
      await otherInstance.close();
    }

    const answer = await service.call('GET', '/v1/support/dashboard', { token: support });
    expect((answer.body as { parkedWork: unknown }).parkedWork).toMatchObject({
      count: 1,
      more: false,
    });
    await page.locator('#parked-figures').getByText('1 parked step').waitFor();
    const rows = await page.locator('#parked-rows tr').allInnerTexts();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(transactionId);
    expect(rows[0]).toContain('provider answer not understood');
    expect(pageFaults).toEqual([]);
    await context.close();
  });
});
