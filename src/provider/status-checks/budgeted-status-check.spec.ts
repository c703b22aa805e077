import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../../config/app-config';
import { SettableClock } from '../../event-store/event-store.contract';
import { PaymentProvider, StatusCheckOutcome, SubmissionOutcome } from '../payment-provider.port';
import { BudgetedStatusCheck, SEND_WINDOW_TOKENS } from './budgeted-status-check';
import { SqliteStatusCheckBudget } from './sqlite/sqlite-status-check-budget';

const T0 = new Date('2030-01-01T00:00:00.000Z');

/** Answers each status check with the next outcome given, and records who was asked. */
class ScriptedProvider extends PaymentProvider {
  readonly asked: string[] = [];
  readonly sendBys: number[] = [];
  private readonly outcomes: StatusCheckOutcome[] = [];

  answer(...outcomes: StatusCheckOutcome[]): void {
    this.outcomes.push(...outcomes);
  }

  submit(): Promise<SubmissionOutcome> {
    throw new Error('not used by status checks');
  }

  async checkStatus(providerId: string, sendBy: number): Promise<StatusCheckOutcome> {
    this.asked.push(providerId);
    this.sendBys.push(sendBy);
    const outcome = this.outcomes.shift();
    if (!outcome) throw new Error('no scripted answer left');
    return outcome;
  }

  async close(): Promise<void> {}
}

describe('BudgetedStatusCheck', () => {
  let dir: string;
  let budget: SqliteStatusCheckBudget;
  let provider: ScriptedProvider;
  let clock: SettableClock;
  let statusCheck: BudgetedStatusCheck;
  // 1 check a second, halved by a 429 down to 0.25/s; a 429 without Retry-After waits 7 s.
  const config = AppConfig.fromEnvironment({
    STATUS_CHECK_RATE: '1',
    STATUS_CHECK_MIN_RATE: '0.25',
    STATUS_CHECK_DEFAULT_BACKOFF_MS: '7000',
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'budgeted-status-check-'));
    budget = new SqliteStatusCheckBudget({ path: join(dir, 'work.sqlite') });
    provider = new ScriptedProvider();
    clock = new SettableClock(T0);
    statusCheck = new BudgetedStatusCheck(provider, budget, clock, config);
  });

  afterEach(async () => {
    await budget.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const at = (ms: number) => clock.set(new Date(T0.getTime() + ms));

  it('asks the provider under a token, and refuses without asking until the next one', async () => {
    provider.answer({ kind: 'found', status: 'completed' });

    expect(await statusCheck.check('tx-1')).toEqual({
      kind: 'answered',
      providerStatus: 'completed',
    });
    expect(await statusCheck.check('tx-2')).toEqual({
      kind: 'refused',
      retryAt: T0.getTime() + 1_000,
    });
    expect(provider.asked).toEqual(['tx-1']);
  });

  it('gives the provider a send deadline a few tokens after the grant', async () => {
    provider.answer({ kind: 'not_found' });
    at(500);
    await statusCheck.check('tx-1');
    expect(provider.sendBys).toEqual([T0.getTime() + 500 + SEND_WINDOW_TOKENS * 1_000]);
  });

  it('refuses a granted check that did not leave by its deadline, without letting the rate recover', async () => {
    provider.answer({ kind: 'rate_limited', retryAfterMs: 1_000 }, { kind: 'not_sent' });
    await statusCheck.check('tx-1');
    at(1_000);
    expect(await statusCheck.check('tx-1')).toEqual({
      kind: 'refused',
      retryAt: T0.getTime() + 1_000,
    });
    // Still half the rate: a token every 2000 ms, not the 1667 ms a recovery would give.
    expect(await statusCheck.check('tx-2')).toEqual({
      kind: 'refused',
      retryAt: T0.getTime() + 3_000,
    });
  });

  it("slows the budget down on a 429 until the provider's Retry-After, halving the rate", async () => {
    provider.answer({ kind: 'rate_limited', retryAfterMs: 3_000 }, { kind: 'not_found' });

    expect(await statusCheck.check('tx-1')).toEqual({ kind: 'rate_limited', retryAfterMs: 3_000 });
    at(2_999);
    expect(await statusCheck.check('tx-1')).toEqual({
      kind: 'refused',
      retryAt: T0.getTime() + 3_000,
    });
    at(3_000);
    expect(await statusCheck.check('tx-1')).toEqual({
      kind: 'answered',
      providerStatus: 'not_found',
    });
    // Half the rate, then a tenth of 1/s back for the answer: 0.6/s, a token every 1667 ms.
    expect(await statusCheck.check('tx-1')).toEqual({
      kind: 'refused',
      retryAt: T0.getTime() + 3_000 + Math.ceil(1_000 / 0.6),
    });
  });

  it('waits the default backoff on a 429 without Retry-After', async () => {
    provider.answer({ kind: 'rate_limited', retryAfterMs: null });

    expect(await statusCheck.check('tx-1')).toEqual({ kind: 'rate_limited', retryAfterMs: 7_000 });
    expect(await statusCheck.check('tx-1')).toEqual({
      kind: 'refused',
      retryAt: T0.getTime() + 7_000,
    });
  });

  it('lets the rate recover on an answer that is not a 429, an error included', async () => {
    provider.answer(
      { kind: 'rate_limited', retryAfterMs: 1_000 },
      { kind: 'error', detail: 'HTTP 502' },
    );
    await statusCheck.check('tx-1');
    at(1_000);

    expect(await statusCheck.check('tx-1')).toEqual({ kind: 'unavailable', detail: 'HTTP 502' });
    // 0.5/s recovered by a tenth of 1/s: 0.6/s, so the next token in 1667 ms rather than 2000.
    expect(await statusCheck.check('tx-1')).toEqual({
      kind: 'refused',
      retryAt: T0.getTime() + 1_000 + Math.ceil(1_000 / 0.6),
    });
  });
});
