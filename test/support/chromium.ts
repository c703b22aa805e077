import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

// Debian's chromium, driven by playwright-core (which downloads no browser of its own).
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true';
export const chromiumFound = existsSync(CHROMIUM_PATH);

/**
 * `describe` where Chromium is, or in CI (.ci/run installs it: there a missing browser must
 * fail, never skip silently); elsewhere `describe.skip` with a printed notice.
 */
export function describeInChromium(what: string): jest.Describe {
  if (!chromiumFound && !IN_CI) {
    process.stdout.write(
      `\n[browser test] No Chromium at ${CHROMIUM_PATH}: ${what} is SKIPPED. Install Debian's ` +
        '"chromium" or set CHROMIUM_PATH; with CI=true it fails instead.\n',
    );
  }
  return chromiumFound || IN_CI ? describe : describe.skip;
}

/**
 * The machine's network is closed: without these Chromium keeps trying to reach Google's
 * services. Playwright adds --headless, --no-sandbox (chromiumSandbox: false) and a fresh
 * temporary profile itself.
 */
const CHROMIUM_FLAGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  if (!chromiumFound) {
    throw new Error(`CI=true but no Chromium at ${CHROMIUM_PATH}: .ci/run must install it`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_FLAGS,
  });
}

/** Set it to keep the screenshots (a CI artefact, or to look at); otherwise a temporary folder. */
const KEPT_SCREENSHOT_DIR = process.env.CONSOLE_SCREENSHOT_DIR;

/** Where a test's screenshots go; `remove` deletes a temporary folder and keeps a kept one. */
export function screenshotFolder(prefix: string): { dir: string; remove(): void } {
  const dir = KEPT_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(dir, { recursive: true });
  return { dir, remove: () => KEPT_SCREENSHOT_DIR || rmSync(dir, { recursive: true }) };
}

/**
 * A fresh browser context (no session storage) on the console, signed in with `token`; page
 * errors and Content-Security-Policy refusals are pushed onto `faults`.
 */
export async function signedInConsole(
  browser: Browser,
  baseUrl: string,
  token: string,
  faults: string[],
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => faults.push(error.message));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) faults.push(message.text());
  });
  await page.goto(`${baseUrl}/console`);
  await page.getByLabel('Support token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#signed-in-as').waitFor();
  return { context, page };
}
