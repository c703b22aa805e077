import { join } from 'node:path';
import { AccountStreams } from '../../src/accounts/account-streams';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import { SqliteAccountReadModel } from '../../src/read-model/sqlite/sqlite-account-read-model';
import { SystemClock } from '../../src/shared/clock';
import { PROJECTIONS_CLI, runCli } from '../support/cli-process';
import { HttpResponse, ServiceHarness } from '../support/service-harness';
import { CryptoIds } from '../../src/shared/ids';
import { MathRandom } from '../../src/shared/random';

const PROBLEM_PREFIX = 'urn:payment-ledger:problem:';
const HOLD_ID = '6f1c7f3e-8a52-4a8e-9f3b-2d4b6c1e9a10';

function expectProblem(response: HttpResponse, status: number, slug: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}${slug}`, status });
}

interface EntryPage {
  items: { id: string; kind: string; amount: number; posted: number; available: number }[];
  nextCursor: string | null;
}

describe('account balances and statements (embedded default)', () => {
  let service: ServiceHarness;
  let operator: string;
  let alice: string;
  let support: string;

  const deposit = (id: string, owner: string, amount: number, currency = 'KES') =>
    service.call('POST', '/v1/accounts/deposits', {
      token: operator,
      body: { id, owner, amount, currency, reference: `wire ${id}` },
    });
  const overdraft = (body: unknown, path = '/v1/accounts/alice/KES/overdraft', token = operator) =>
    service.call('PUT', path, { token, body });

  /** Every entry of a statement, following the cursors `limit` at a time. */
  async function wholeStatement(path: string, token: string, limit: number) {
    const items: EntryPage['items'] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await service.call('GET', `${path}${query}`, { token });
      expect(response.status).toBe(200);
      const page = response.body as EntryPage;
      expect(page.items.length).toBeLessThanOrEqual(limit);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  /** A hold and its posting, written through the account write path from a second process. */
  async function holdAndPost(): Promise<void> {
    const eventStore = new SqliteEventStore({
      path: join(service.dataDir, 'events.sqlite'),
      clock: new SystemClock(),
    });
    const streams = new AccountStreams(eventStore, new MathRandom(), new CryptoIds());
    const context = { correlationId: 'e2e', causationId: 'e2e', actor: 'test' };
    const at = new Date().toISOString();
    const account = { owner: 'alice', currency: 'KES', at };
    try {
      await streams.handle(
        { ...account, type: 'PlaceHold', holdId: HOLD_ID, amount: 1_000, expiresAt: at },
        context,
      );
      await streams.handle({ ...account, type: 'PostHold', holdId: HOLD_ID }, context);
    } finally {
      await eventStore.close();
    }
  }

  beforeAll(async () => {
    service = await ServiceHarness.start();
    operator = await service.token('olga', ['operator']);
    alice = await service.token('alice');
    support = await service.token('sam', ['support']);
    for (let i = 1; i <= 5; i++) {
      expect((await deposit(`kes-${i}`, 'alice', i * 100)).status).toBe(201);
    }
    expect((await deposit('usd-1', 'alice', 700, 'USD')).status).toBe(201);
    expect((await deposit('bob-1', 'bob', 50)).status).toBe(201);
    await holdAndPost();
  });

  afterAll(async () => {
    await service.close();
  });

  it('GET /v1/accounts shows the deposits and the posted hold, one account per currency', async () => {
    const response = await service.call('GET', '/v1/accounts', { token: alice });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      accounts: [
        { currency: 'KES', posted: 500, pending: 0, available: 500, overdraftLimit: 0 },
        { currency: 'USD', posted: 700, pending: 0, available: 700, overdraftLimit: 0 },
      ],
    });
  });

  it('an owner with no account gets an empty list', async () => {
    const carol = await service.token('carol');
    const response = await service.call('GET', '/v1/accounts', { token: carol });
    expect(response.body).toEqual({ accounts: [] });
  });

  it('the statement pages newest first, each entry with the balances after it', async () => {
    const entries = await wholeStatement('/v1/accounts/KES/entries', alice, 2);
    expect(entries.map(({ kind, amount }) => [kind, amount])).toEqual([
      ['hold_posted', -1_000],
      ['hold', -1_000],
      ['deposit', 500],
      ['deposit', 400],
      ['deposit', 300],
      ['deposit', 200],
      ['deposit', 100],
    ]);
    expect(entries.map(({ available }) => available)).toEqual([
      500, 500, 1_500, 1_000, 600, 300, 100,
    ]);
    expect(new Set(entries.map(({ id }) => id)).size).toBe(7);
    const newest = (await service.call('GET', '/v1/accounts/KES/entries?limit=1', { token: alice }))
      .body as EntryPage;
    expect(newest.items[0]).toMatchObject({
      transactionId: HOLD_ID,
      // The transaction side does not place holds yet on this branch: no summary, no client id.
      clientId: null,
      reference: null,
      balance: 'posted',
      posted: 500,
      pending: 0,
    });
  });

  it('refuses a bad currency or cursor (400) and answers 404 for a currency with no account', async () => {
    for (const currency of ['kes', 'XYZ', 'KESS', '%20']) {
      expectProblem(
        await service.call('GET', `/v1/accounts/${currency}/entries`, { token: alice }),
        400,
        'validation-failed',
      );
    }
    for (const query of ['?cursor=!!', '?limit=0', '?limit=101', '?limit=x', '?other=1']) {
      expectProblem(
        await service.call('GET', `/v1/accounts/KES/entries${query}`, { token: alice }),
        400,
        'validation-failed',
      );
    }
    expectProblem(
      await service.call('GET', '/v1/accounts/EUR/entries', { token: alice }),
      404,
      'not-found',
    );
    expectProblem(await service.call('GET', '/v1/accounts'), 401, 'unauthenticated');
  });

  it('PUT overdraft sets the limit (200), replays (200), and refuses a reused changeId (422)', async () => {
    const first = await overdraft({ changeId: 'od-1', limit: 5_000 });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      owner: 'alice',
      currency: 'KES',
      posted: 500,
      pending: 0,
      available: 5_500,
      overdraftLimit: 5_000,
    });
    const replay = await overdraft({ changeId: 'od-1', limit: 5_000 });
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expectProblem(await overdraft({ changeId: 'od-1', limit: 1 }), 422, 'account-id-reused');

    const accounts = await service.call('GET', '/v1/accounts', { token: alice });
    expect(accounts.body).toMatchObject({
      accounts: [{ currency: 'KES', available: 5_500, overdraftLimit: 5_000 }, {}],
    });
  });

  it.each([
    ['a negative limit', { changeId: 'od-x', limit: -1 }, undefined],
    ['a fractional limit', { changeId: 'od-x', limit: 1.5 }, undefined],
    ['a limit as a string', { changeId: 'od-x', limit: '5' }, undefined],
    ['a changeId with a space', { changeId: 'od x', limit: 5 }, undefined],
    ['an unknown field', { changeId: 'od-x', limit: 5, extra: 1 }, undefined],
    ['a bad currency', { changeId: 'od-x', limit: 5 }, '/v1/accounts/alice/kes/overdraft'],
    [
      'a control character in the owner',
      { changeId: 'od-x', limit: 5 },
      '/v1/accounts/a%00b/KES/overdraft',
    ],
  ])('refuses %s with problem+json (400)', async (_case, body, path) => {
    expectProblem(await overdraft(body, path), 400, 'validation-failed');
  });

  it('PUT overdraft needs the operator role (403)', async () => {
    expectProblem(
      await overdraft({ changeId: 'od-2', limit: 1 }, undefined, alice),
      403,
      'forbidden',
    );
    expectProblem(
      await overdraft({ changeId: 'od-2', limit: 1 }, undefined, support),
      403,
      'forbidden',
    );
  });

  it("support reads any owner's accounts and statement, with the support role only", async () => {
    const accounts = await service.call('GET', '/v1/support/accounts/bob', { token: support });
    expect(accounts.status).toBe(200);
    expect(accounts.body).toEqual({
      owner: 'bob',
      accounts: [{ currency: 'KES', posted: 50, pending: 0, available: 50, overdraftLimit: 0 }],
    });
    const statement = await wholeStatement('/v1/support/accounts/alice/KES/entries', support, 3);
    expect(statement).toEqual(await wholeStatement('/v1/accounts/KES/entries', alice, 100));
    expectProblem(
      await service.call('GET', '/v1/support/accounts/alice/kes/entries', { token: support }),
      400,
      'validation-failed',
    );
    expectProblem(
      await service.call('GET', '/v1/support/accounts/nobody/KES/entries', { token: support }),
      404,
      'not-found',
    );
    for (const path of [
      '/v1/support/accounts/bob',
      '/v1/support/accounts/alice/KES/entries',
      '/v1/support/ledger/balances',
    ]) {
      expectProblem(await service.call('GET', path, { token: alice }), 403, 'forbidden');
      expectProblem(await service.call('GET', path, { token: operator }), 403, 'forbidden');
      expectProblem(await service.call('GET', path), 401, 'unauthenticated');
    }
  });

  it('the ledger balances of every currency sum to zero', async () => {
    const response = await service.call('GET', '/v1/support/ledger/balances', { token: support });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      currencies: [
        {
          currency: 'KES',
          customers: { posted: 550, pending: 0 },
          funding: { posted: -1_550, pending: 0 },
          clearing: { posted: 1_000, pending: 0 },
          sum: { posted: 0, pending: 0 },
        },
        {
          currency: 'USD',
          customers: { posted: 700, pending: 0 },
          funding: { posted: -700, pending: 0 },
          clearing: { posted: 0, pending: 0 },
          sum: { posted: 0, pending: 0 },
        },
      ],
    });
  });

  it('`npm run projections -- rebuild account-balances` while the service runs gives the same rows', async () => {
    const path = join(service.dataDir, 'account-read-model.sqlite');
    const snapshot = async () => {
      const readModel = new SqliteAccountReadModel({ path, readOnly: true });
      try {
        const { items } = await readModel.scanBalances({ limit: 100 });
        const entries = await Promise.all(
          items.map((balance) => readModel.listEntries({ ...balance, limit: 100 })),
        );
        return { items, entries, ledger: await readModel.currencyBalances() };
      } finally {
        await readModel.close();
      }
    };
    const before = await snapshot();
    expect(before.items).toHaveLength(3);

    // As an operator runs it, in its own process beside the running service.
    const rebuild = await runCli(PROJECTIONS_CLI, service.dataDir, [
      'rebuild',
      'account-balances',
      '--batch-events',
      '3',
    ]);
    expect(rebuild).toMatchObject({ code: 0 });
    expect(rebuild.stdout).toMatch(/rebuild account-balances: \d+ events .* swapped in/);
    const status = await runCli(PROJECTIONS_CLI, service.dataDir, ['status']);
    expect(status.stdout).toMatch(/^account-balances +\d+ +0 /m);

    expect(await snapshot()).toEqual(before);
    const accounts = await service.call('GET', '/v1/accounts', { token: alice });
    expect(accounts.body).toMatchObject({ accounts: [{ currency: 'KES', posted: 500 }, {}] });
  });
});
