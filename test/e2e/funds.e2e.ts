import { join } from 'node:path';
import { AccountStreams } from '../../src/accounts/account-streams';
import type { OpenAccount } from '../../src/accounts/account.state';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { SystemClock } from '../../src/shared/clock';
import type { OutcomeScript } from '../../src/provider-simulator/provider-simulator.options';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { ServiceHarness } from '../support/service-harness';
import { streamOf } from '../support/stream-reader';
import { CryptoIds } from '../../src/shared/ids';
import { MathRandom } from '../../src/shared/random';

interface View {
  id: string;
  status: string;
  failureReason: string | null;
  finalStatusSource: string | null;
  funds: string | null;
}

const INSUFFICIENT_FUNDS = 'urn:payment-ledger:problem:insufficient-funds';

/**
 * The money behind every payment, over HTTP against the running service and the simulator: the
 * amount is held before the provider is called, captured when the payment succeeds, released when
 * it fails, and a payment the balance does not cover is refused at once and never sent.
 */
describe('payments move money (embedded default, simulator, compressed time)', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;

  beforeAll(async () => {
    simulator = await startProviderSimulator({
      timeScale: SCALE,
      seed: 20261205,
      statusBudget: { requestsPerSecond: 10, banSeconds: 60 },
    });
    service = await ServiceHarness.start(compressedServiceEnv(simulator.url));
  });

  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  /** The account as a second process folds it from the SQLite file: the truth, not a view. */
  async function accountOf(owner: string, currency = 'KES'): Promise<OpenAccount> {
    const store = new SqliteEventStore({
      path: join(service.dataDir, 'events.sqlite'),
      clock: new SystemClock(),
    });
    try {
      const { state } = await new AccountStreams(store, new MathRandom(), new CryptoIds()).load(
        owner,
        currency,
      );
      if (!state.opened) throw new Error(`${owner} has no ${currency} account`);
      return state;
    } finally {
      await store.close();
    }
  }

  const pay = (token: string, id: string, amount: number) =>
    service.call('POST', '/v1/transactions', {
      token,
      body: { id, amount, currency: 'KES', recipient: 'bob' },
    });

  /** Long-polls the view until `done` holds. */
  async function waitFor(token: string, id: string, done: (view: View) => boolean): Promise<View> {
    for (;;) {
      const response = await service.call('GET', `/v1/transactions/${id}`, {
        token,
        headers: { prefer: 'wait=2' },
      });
      const view = response.body as View;
      if (done(view)) return view;
    }
  }

  it('holds the amount before the provider is called, and captures it when the payment succeeds', async () => {
    const token = await service.token('dina');
    await service.fund({ owner: 'dina', currency: 'KES', amount: 10_000 });
    simulator.script({ forceOutcomes: { [transactionIdFor('dina', 'pay-ok')]: 'ok-completed' } });

    const created = await pay(token, 'pay-ok', 2_500);
    expect(created.status).toBe(202);
    const held = await accountOf('dina');
    // Either still held or already captured, never neither: the money left the available balance.
    expect(held.posted - held.pending).toBe(7_500);

    const view = await waitFor(token, 'pay-ok', (v) => v.funds === 'captured');
    expect(view).toMatchObject({ status: 'SUCCEEDED', funds: 'captured' });
    expect(await accountOf('dina')).toMatchObject({ posted: 7_500, pending: 0 });

    const stream = await streamOf(service, transactionIdFor('dina', 'pay-ok'));
    const types = stream.map((event) => event.type);
    expect(types.indexOf('FundsReserved')).toBeLessThan(types.indexOf('ProviderSubmissionStarted'));
    expect(types.at(-1)).toBe('FundsCaptured');
  });

  it('releases the hold when the provider declines', async () => {
    const token = await service.token('ezra');
    await service.fund({ owner: 'ezra', currency: 'KES', amount: 10_000 });
    simulator.script({ forceOutcomes: { [transactionIdFor('ezra', 'pay-no')]: 'ok-declined' } });

    expect((await pay(token, 'pay-no', 4_000)).status).toBe(202);
    const view = await waitFor(token, 'pay-no', (v) => v.funds === 'released');
    expect(view).toMatchObject({ status: 'FAILED', failureReason: 'declined', funds: 'released' });
    expect(await accountOf('ezra')).toMatchObject({ posted: 10_000, pending: 0 });
  });

  it('refuses a payment the balance does not cover at once (422), fails it, never calls the provider, and answers a replay the same', async () => {
    const token = await service.token('fay');
    await service.fund({ owner: 'fay', currency: 'KES', amount: 1_000 });

    const refused = await pay(token, 'too-much', 1_001);
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ type: INSUFFICIENT_FUNDS, status: 422 });
    expect(refused.headers.location).toBe('/v1/transactions/too-much');

    const read = await service.call('GET', '/v1/transactions/too-much', { token });
    expect(read.body).toMatchObject({
      status: 'FAILED',
      failureReason: 'insufficient_funds',
      finalStatusSource: 'ledger',
      funds: 'refused',
    });

    const replay = await pay(token, 'too-much', 1_001);
    expect(replay.status).toBe(422);
    expect(replay.body).toMatchObject({ type: INSUFFICIENT_FUNDS });
    expect(replay.headers['idempotent-replayed']).toBe('true');

    // A later deposit does not change what was decided for that request.
    await service.fund({ owner: 'fay', currency: 'KES', amount: 5_000 });
    expect((await pay(token, 'too-much', 1_001)).status).toBe(422);

    const providerId = transactionIdFor('fay', 'too-much');
    expect(simulator.truth().transactions.some((t) => t.id === providerId)).toBe(false);
    expect(await accountOf('fay')).toMatchObject({ posted: 6_000, pending: 0 });
  });

  it('lets exactly the payments the balance covers through when 50 arrive at once', async () => {
    const token = await service.token('gus');
    await service.fund({ owner: 'gus', currency: 'KES', amount: 17 * 100 });
    const script: OutcomeScript = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [
        transactionIdFor('gus', `burst-${i}`),
        'ok-completed' as const,
      ]),
    );
    simulator.script({ forceOutcomes: script });

    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pay(token, `burst-${i}`, 100)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(17);
    expect(statuses.filter((status) => status === 422)).toHaveLength(33);

    const accepted = answers.flatMap((answer, i) => (answer.status === 202 ? [`burst-${i}`] : []));
    for (const id of accepted) await waitFor(token, id, (v) => v.funds === 'captured');
    expect(await accountOf('gus')).toMatchObject({ posted: 0, pending: 0 });
  });
});
