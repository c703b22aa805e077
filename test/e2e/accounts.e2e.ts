import { join } from 'node:path';
import { accountStreamName } from '../../src/accounts/account-id';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import { SystemClock } from '../../src/shared/clock';
import { HttpResponse, ServiceHarness } from '../support/service-harness';

const PROBLEM_PREFIX = 'urn:payment-ledger:problem:';

function expectProblem(response: HttpResponse, status: number, slug: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}${slug}`, status });
}

describe('POST /v1/accounts/deposits', () => {
  let service: ServiceHarness;
  let operator: string;

  const DEPOSIT = {
    id: 'wire-0001',
    owner: 'alice',
    amount: 100_000,
    currency: 'KES',
    reference: 'bank wire 42',
  };

  const deposit = (body: unknown, token = operator) =>
    service.call('POST', '/v1/accounts/deposits', { token, body });

  /** The account's event types, as a second process reads them from the SQLite file. */
  async function accountEventTypes(owner: string, currency: string): Promise<string[]> {
    const store = new SqliteEventStore({
      path: join(service.dataDir, 'events.sqlite'),
      clock: new SystemClock(),
    });
    try {
      const events = await store.readStream(accountStreamName(owner, currency));
      return events.map((event) => event.type);
    } finally {
      await store.close();
    }
  }

  beforeAll(async () => {
    service = await ServiceHarness.start();
    operator = await service.token('olga', ['operator']);
  });

  afterAll(async () => {
    await service.close();
  });

  it('deposits into the owner account (201), and the same deposit again replays it (200) without a second credit', async () => {
    const first = await deposit(DEPOSIT);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      id: 'wire-0001',
      amount: 100_000,
      reference: 'bank wire 42',
      account: {
        owner: 'alice',
        currency: 'KES',
        posted: 100_000,
        pending: 0,
        available: 100_000,
        overdraftLimit: 0,
      },
    });

    const replay = await deposit(DEPOSIT);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(await accountEventTypes('alice', 'KES')).toEqual(['AccountOpened', 'FundsDeposited']);
  });

  it('a second deposit adds up; another currency is another account', async () => {
    const second = await deposit({ ...DEPOSIT, id: 'wire-0002', amount: 2_500 });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ account: { posted: 102_500, available: 102_500 } });

    const dollars = await deposit({ ...DEPOSIT, id: 'wire-0003', currency: 'USD', amount: 700 });
    expect(dollars.body).toMatchObject({ account: { currency: 'USD', posted: 700 } });
  });

  it('the same id with another amount or reference is refused (422) and changes nothing', async () => {
    expectProblem(await deposit({ ...DEPOSIT, amount: 1 }), 422, 'account-id-reused');
    expectProblem(await deposit({ ...DEPOSIT, reference: 'other' }), 422, 'account-id-reused');
    expect(await accountEventTypes('alice', 'KES')).toEqual([
      'AccountOpened',
      'FundsDeposited',
      'FundsDeposited',
    ]);
  });

  it('needs a token (401) with the operator role (403)', async () => {
    expectProblem(
      await service.call('POST', '/v1/accounts/deposits', { body: DEPOSIT }),
      401,
      'unauthenticated',
    );
    for (const roles of [[], ['support'], ['auditor']] as const) {
      const token = await service.token('mallory', [...roles]);
      expectProblem(await deposit({ ...DEPOSIT, id: 'wire-x' }, token), 403, 'forbidden');
    }
    expect(await accountEventTypes('bob', 'KES')).toEqual([]);
  });

  it.each([
    ['a zero amount', { amount: 0 }],
    ['a negative amount', { amount: -5 }],
    ['a fractional amount', { amount: 1.5 }],
    ['an amount as a string', { amount: '100' }],
    ['an amount beyond a safe integer', { amount: 2 ** 53 }],
    ['an unknown currency', { currency: 'XYZ' }],
    ['a lower-case currency', { currency: 'kes' }],
    ['an empty owner', { owner: '' }],
    ['a control character in the reference', { reference: 'a\u0000b' }],
    ['no reference', { reference: undefined }],
    ['an id with a space', { id: 'wire 1' }],
    ['an unknown field', { extra: true }],
  ])('refuses %s as problem+json and changes nothing', async (_case, change) => {
    const response = await deposit({ ...DEPOSIT, owner: 'bob', id: 'wire-bad', ...change });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(await accountEventTypes('bob', 'KES')).toEqual([]);
  });

  it('refuses a deposit that would take the balance beyond what can be counted (400)', async () => {
    const big = { ...DEPOSIT, owner: 'carol', id: 'big-1', amount: Number.MAX_SAFE_INTEGER };
    expect((await deposit(big)).status).toBe(201);
    expectProblem(await deposit({ ...big, id: 'big-2', amount: 1 }), 400, 'validation-failed');
    expect(await accountEventTypes('carol', 'KES')).toEqual(['AccountOpened', 'FundsDeposited']);
  });
});
