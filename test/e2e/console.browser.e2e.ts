import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { ServiceHarness } from '../support/service-harness';
import { until } from '../support/polling';
import {
  describeInChromium,
  launchChromium,
  screenshotFolder,
  signedInConsole as signedIn,
} from '../support/chromium';

/** The one browser function used here: this project compiles without the DOM's types. */
interface BrowserWindow {
  getComputedStyle(node: unknown): { getPropertyValue(name: string): string };
}

/** A computed style property of the element, read in the page. */
function computedStyle(locator: Locator, property: string): Promise<string> {
  return locator.evaluate(
    (node, name) =>
      (globalThis as unknown as BrowserWindow).getComputedStyle(node).getPropertyValue(name),
    property,
  );
}

const describeInBrowser = describeInChromium('the support console browser test');

describeInBrowser('the support console in headless Chromium', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;
  let browser: Browser;
  let screenshots: { dir: string; remove(): void };
  /** Uncaught page errors and Content-Security-Policy refusals: none is expected. */
  const pageFaults: string[] = [];

  const OWNER = 'carol';
  const idOf = (clientId: string) => transactionIdFor(OWNER, clientId);
  /** The provider confirms each, then a webhook contradicts the two conflicts: two open cases. */
  const CREATED = {
    'ok-1': { outcome: 'ok-completed', webhook: 'once' },
    'conflict-1': { outcome: 'ok-completed', webhook: 'contradicting' },
    'conflict-2': { outcome: 'ok-completed', webhook: 'contradicting' },
  } as const;

  beforeAll(async () => {
    simulator = await startProviderSimulator({ timeScale: SCALE, seed: 11 });
    service = await ServiceHarness.start(compressedServiceEnv(simulator.url));
    const customer = await service.token(OWNER);
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
    const support = await service.token('sam', ['support']);
    const queue = await until(
      async () =>
        (await service.call('GET', '/v1/support/reconciliation', { token: support })).body as {
          items: { id: string }[];
        },
      (page) => page.items.length === 2,
    );
    expect(queue.items.map((item) => item.id)).toEqual(['conflict-1', 'conflict-2']);

    browser = await launchChromium();
    screenshots = screenshotFolder('console-browser-');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await simulator?.close();
    screenshots?.remove();
  });

  /** A fresh browser context (no session storage) on the console, signed in with `roles`. */
  async function signedInConsole(
    roles: ('support' | 'auditor')[],
  ): Promise<{ context: BrowserContext; page: Page }> {
    return signedIn(browser, service.baseUrl, await service.token('sam', roles), pageFaults);
  }

  const queueRegion = (page: Page) => page.getByRole('region', { name: 'Reconciliation queue' });
  const detailRegion = (page: Page) => page.locator('#detail');

  it('serves the page and its files with their content types; unknown files are problem+json 404s', async () => {
    for (const [path, type] of [
      ['/console', 'text/html'],
      ['/console/', 'text/html'],
      ['/console/console.js', 'text/javascript'],
      ['/console/console.css', 'text/css'],
    ]) {
      const response = await service.call('GET', path);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toContain(type);
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    }
    for (const path of [
      '/console/nope.js',
      '/console/..%2Fconsole.controller.ts',
      '/console/a/b',
    ]) {
      const response = await service.call('GET', path);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('signs in, shows the queue, opens a case with its timeline, resolves it and shows the new status', async () => {
    const { context, page } = await signedInConsole(['support', 'auditor']);
    expect(await page.locator('#signed-in-as').innerText()).toContain('sam');

    const queue = queueRegion(page);
    await queue.getByRole('button', { name: 'conflict-1' }).waitFor();
    const rows = await queue.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('conflict-1');
    expect(rows[0]).toContain('needs_reconciliation: conflicting_reports');
    expect(rows[1]).toContain('conflict-2');

    await queue.getByRole('button', { name: 'conflict-1' }).click();
    const detail = detailRegion(page);
    await detail.getByRole('heading', { name: 'carol / conflict-1' }).waitFor();
    const timeline = detail.locator('#timeline > li');
    const eventTypes = await timeline.locator('.event-type').allInnerTexts();
    expect(eventTypes[0]).toBe('TransactionRequested');
    expect(eventTypes).toEqual(
      expect.arrayContaining(['StatusConfirmed', 'ConflictingStatusReported']),
    );
    // The hold's capture (FundsCaptured) follows StatusConfirmed on the worker's time, so it
    // may land before or after the contradicting webhook: the case is the last status event.
    expect(eventTypes.filter((type) => !type.startsWith('Funds')).at(-1)).toBe(
      'ReconciliationRequired',
    );

    await detail.getByLabel('FAILED').check();
    await detail.getByLabel(/^Note/).fill('Provider statement shows it declined');
    await detail.getByRole('button', { name: 'Resolve' }).click();

    await page.getByText('Resolved carol / conflict-1: now FAILED.').waitFor();
    const resolution = timeline.filter({ hasText: 'ResolvedBySupport' });
    await resolution.waitFor();
    expect(await resolution.innerText()).toContain('support:sam');
    expect(await detail.locator('.fields .status').innerText()).toBe('FAILED');
    expect(await detail.locator('#resolve-form').isHidden()).toBe(true);
    await queue.getByRole('button', { name: 'conflict-1' }).waitFor({ state: 'detached' });

    const screenshot = join(screenshots.dir, 'support-console.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
    expect(pageFaults).toEqual([]);
    await context.close();
  });

  it("shows the owner's account in the transaction's currency beside it: balances and last entries", async () => {
    const operator = await service.token('olga', ['operator']);
    const deposited = await service.call('POST', '/v1/accounts/deposits', {
      token: operator,
      body: {
        id: 'console-1',
        owner: OWNER,
        amount: 9_000,
        currency: 'KES',
        reference: 'wire 7',
      },
    });
    expect(deposited.status).toBe(201);
    const { context, page } = await signedInConsole(['support']);
    const queue = queueRegion(page);
    await queue.getByRole('button', { name: 'conflict-2' }).click();
    const detail = detailRegion(page);
    await detail.getByRole('heading', { name: 'Account of carol in KES' }).waitFor();
    await detail.locator('#account-entries > li').first().waitFor();
    const fields = await detail.locator('#account-fields').innerText();
    const accounts = await service.call('GET', `/v1/support/accounts/${OWNER}`, {
      token: await service.token('sue', ['support']),
    });
    const kes = (
      accounts.body as { accounts: { currency: string; available: number }[] }
    ).accounts.find((account) => account.currency === 'KES');
    expect(kes?.available).toBeGreaterThanOrEqual(9_000);
    expect(fields).toMatch(new RegExp(`Available\\s+${kes?.available}`));
    const entries = await detail.locator('#account-entries > li').allInnerTexts();
    expect(entries[0]).toContain('deposit 9000 (posted)');
    expect(entries[0]).toContain('reference: wire 7');
    expect(pageFaults).toEqual([]);
    await context.close();
  });

  it('shows the problem details when a colleague settled the case first (409)', async () => {
    const { context, page } = await signedInConsole(['support', 'auditor']);
    await queueRegion(page).getByRole('button', { name: 'conflict-2' }).click();
    const detail = detailRegion(page);
    await detail.getByRole('heading', { name: 'carol / conflict-2' }).waitFor();

    const colleague = await service.call(
      'POST',
      `/v1/support/transactions/${idOf('conflict-2')}/resolution`,
      {
        token: await service.token('sue', ['support']),
        body: { status: 'SUCCEEDED', note: 'settled by a colleague' },
      },
    );
    expect(colleague.status).toBe(200);

    await detail.getByLabel('SUCCEEDED').check();
    await detail.getByLabel(/^Note/).fill('too late');
    await detail.getByRole('button', { name: 'Resolve' }).click();
    const alert = detail.locator('#resolve-problem');
    await alert.getByText('urn:payment-ledger:problem:resolution-not-allowed').waitFor();
    expect(await alert.innerText()).toContain(
      '409 Only a transaction that needs reconciliation can be resolved',
    );
    // The detail now shows the colleague's decision, and no longer offers to resolve it.
    expect(await detail.locator('.fields .status').innerText()).toBe('SUCCEEDED');
    expect(await detail.locator('#resolve-form').isHidden()).toBe(true);
    expect(await alert.innerText()).not.toMatch(/null/);
    expect(pageFaults).toEqual([]);
    await context.close();
  });

  it('finds a transaction by search and, without the auditor role, shows the summary’s times', async () => {
    const { context, page } = await signedInConsole(['support']);
    const search = page.getByRole('region', { name: 'Search' });
    await search.getByLabel('Client id').fill('ok-1');
    await search.getByRole('button', { name: 'Search' }).click();
    await search.getByRole('button', { name: 'ok-1' }).click();

    const detail = detailRegion(page);
    await detail.getByRole('heading', { name: 'carol / ok-1' }).waitFor();
    expect(await detail.locator('#timeline-source').innerText()).toContain(
      'The raw events need the auditor role',
    );
    expect(await detail.locator('#timeline .event-type').allInnerTexts()).toEqual([
      'Requested',
      'Last change',
      'Final',
    ]);
    expect(await detail.locator('#resolve-form').isHidden()).toBe(true);
    expect(pageFaults).toEqual([]);
    await context.close();
  });

  it('refuses a customer token on the sign-in form with the problem details', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${service.baseUrl}/console`);
    await page.getByLabel('Support token').fill(await service.token(OWNER));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#sign-in-problem').getByText('403 Not allowed for this caller').waitFor();
    expect(await page.locator('#workspace').isHidden()).toBe(true);
    // Only what the problem says: no stray "null" for the parts it does not have.
    expect(await page.locator('#sign-in-problem').innerText()).not.toMatch(/null/);
    // A refusal is not reported in the success colour.
    expect(await page.locator('#notice').innerText()).toContain('refused');
    expect(await computedStyle(page.locator('#notice'), 'color')).toBe(
      await computedStyle(page.locator('#sign-in-problem'), 'color'),
    );
    await context.close();
  });

  it('clears earlier results when a search fails, so they are not taken for its answer', async () => {
    const { context, page } = await signedInConsole(['support']);
    const search = page.getByRole('region', { name: 'Search' });
    await search.getByLabel('Client id').fill('ok-1');
    await search.getByRole('button', { name: 'Search' }).click();
    await search.getByRole('button', { name: 'ok-1' }).waitFor();

    await search.getByLabel('Client id').fill('not an id!');
    await search.getByRole('button', { name: 'Search' }).click();
    const problem = page.locator('#search-problem');
    await problem.getByText('urn:payment-ledger:problem:validation-failed').waitFor();
    expect(await problem.innerText()).not.toMatch(/null/);
    expect(await page.locator('#search-results').isHidden()).toBe(true);
    expect(await page.locator('#search-rows tr').count()).toBe(0);
    await context.close();
  });

  it('isolates text others wrote, so right-to-left text cannot reorder the line around it', async () => {
    const note = 'שכר דירה 2500';
    const created = await service.call('POST', '/v1/transactions', {
      token: await service.token(OWNER),
      body: { id: 'rtl-note-1', amount: 2500, currency: 'KES', recipient: 'dan', note },
    });
    expect(created.status).toBe(202);
    const { context, page } = await signedInConsole(['support', 'auditor']);
    const search = page.getByRole('region', { name: 'Search' });
    await search.getByLabel('Client id').fill('rtl-note-1');
    await search.getByRole('button', { name: 'Search' }).click();
    await search.getByRole('button', { name: 'rtl-note-1' }).click();

    const detail = detailRegion(page);
    await detail.getByRole('heading', { name: 'carol / rtl-note-1' }).waitFor();
    const isolated = detail.locator('bdi[dir="auto"]', { hasText: note });
    // In the fields and in the TransactionRequested event of the timeline.
    await isolated.first().waitFor();
    expect(await isolated.count()).toBe(2);
    expect(await computedStyle(isolated.first(), 'unicode-bidi')).toBe('isolate');
    expect(pageFaults).toEqual([]);
    await context.close();
  });
});
