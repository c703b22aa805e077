import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import {
  StartedEventStoreDb,
  StartedMongo,
  describeWithContainers,
  startEventStoreDb,
  startMongo,
  CONTAINER_START_MS,
} from '../support/containers';
import { KILL_SCENARIO_TIMEOUT_MS, killOneOfTwoInstances } from '../support/kill-one-of-two';
import { ServiceHarness } from '../support/service-harness';

interface View {
  status: string;
  attempts: number;
}

/** The whole service on EventStoreDB and a MongoDB replica set, as docker-compose runs it. */
describeWithContainers('the service on EventStoreDB and MongoDB', () => {
  let eventStore: StartedEventStoreDb;
  let mongo: StartedMongo;
  let databaseCount = 0;

  beforeAll(async () => {
    [eventStore, mongo] = await Promise.all([startEventStoreDb(), startMongo()]);
  }, CONTAINER_START_MS);

  afterAll(async () => {
    await Promise.all([eventStore?.stop(), mongo?.stop()]);
  });

  /** The scaled-out adapters, each test in its own MongoDB database. */
  function stores(): Record<string, string> {
    databaseCount += 1;
    return {
      EVENT_STORE: 'eventstoredb',
      EVENTSTOREDB_CONNECTION_STRING: eventStore.connectionString,
      READ_MODEL: 'mongodb',
      MONGODB_URL: mongo.url,
      MONGODB_DATABASE: `ledger_e2e_${databaseCount}`,
    };
  }

  describe('one instance', () => {
    let simulator: RunningProviderSimulator;
    let service: ServiceHarness;

    beforeAll(async () => {
      simulator = await startProviderSimulator({ timeScale: SCALE, seed: 5 });
      service = await ServiceHarness.start({
        ...compressedServiceEnv(simulator.url),
        ...stores(),
      });
    });

    afterAll(async () => {
      await service?.close();
      await simulator?.close();
    });

    it('takes transactions to their provider outcome, serves support, and keeps them across a restart', async () => {
      const token = await service.token('dora');
      await service.fund({ owner: 'dora', currency: 'KES' });
      const support = await service.token('sam', ['support']);
      const ids = ['c-1', 'c-2', 'c-3', 'c-4'];
      const outcomes = ['ok-completed', 'ok-declined', 'late-completed', 'ok-completed'] as const;
      simulator.script({
        forceOutcomes: Object.fromEntries(
          ids.map((id, i) => [transactionIdFor('dora', id), outcomes[i]]),
        ),
      });

      for (const id of ids) {
        const body = { id, amount: 900, currency: 'KES', recipient: 'bob' };
        const accepted = await service.call('POST', '/v1/transactions', { token, body });
        expect(accepted.status).toBe(202);
        const replayed = await service.call('POST', '/v1/transactions', { token, body });
        expect(replayed.headers['idempotent-replayed']).toBe('true');
      }
      const settled: View[] = [];
      for (const id of ids) {
        let view: View | undefined;
        for (let i = 0; i < 20 && view?.status !== 'SUCCEEDED' && view?.status !== 'FAILED'; i++) {
          view = (
            await service.call('GET', `/v1/transactions/${id}`, {
              token,
              headers: { prefer: 'wait=2' },
            })
          ).body as View;
        }
        settled.push(view!);
      }

      expect(settled.map((view) => view.status)).toEqual([
        'SUCCEEDED',
        'FAILED',
        'SUCCEEDED',
        'SUCCEEDED',
      ]);
      expect(simulator.truth().totals.idsSubmittedMoreThanOnce).toBe(0);
      const search = await service.call('GET', '/v1/support/transactions?owner=dora', {
        token: support,
      });
      expect((search.body as { items: unknown[] }).items).toHaveLength(ids.length);
      expect((await service.call('GET', '/health/ready')).status).toBe(200);

      await service.restart();
      const again = await service.call('GET', `/v1/transactions/${ids[0]}`, { token });
      expect(again.body).toMatchObject({ status: 'SUCCEEDED' });
    });
  });

  describe('two instances, one killed mid-flight', () => {
    let dataDir: string;
    let scenario: Awaited<ReturnType<typeof killOneOfTwoInstances>>;

    beforeAll(async () => {
      // Only the development secrets live here: the stores are the servers.
      dataDir = mkdtempSync(join(tmpdir(), 'ledger-scaled-'));
      scenario = await killOneOfTwoInstances({ ...stores(), DATA_DIR: dataDir });
    });

    afterAll(async () => {
      await scenario?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it(
      'finishes every transaction on the survivor, with no second POST and no budget overrun',
      () => scenario.run(),
      KILL_SCENARIO_TIMEOUT_MS,
    );
  });
});
