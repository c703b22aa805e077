import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { SettableClock } from '../event-store/event-store.contract';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { TransactionStreams } from '../transactions/transaction-streams';
import { LeasedPlanner, PLANNER_LEASE } from './leased-planner';
import { ProcessManagerProjection } from './process-manager.projection';
import { SqliteNamedLeases } from './sqlite/sqlite-named-leases';
import { SqliteWorkStore } from './sqlite/sqlite-work-store';
import { StaleCheckpointError } from './checkpointed-schedule.port';
import { CryptoIds } from '../shared/ids';

const LEASE_MS = 60_000;
const T0 = new Date('2030-01-01T00:00:00.000Z');

/** Two service instances sharing one event store and one work store, as on one machine. */
describe('LeasedPlanner', () => {
  let dir: string;
  let clock: SettableClock;
  let eventStore: SqliteEventStore;
  let stores: (SqliteWorkStore | SqliteNamedLeases)[];
  let planners: LeasedPlanner[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'leased-planner-'));
    clock = new SettableClock(T0);
    eventStore = new SqliteEventStore({
      path: join(dir, 'events.sqlite'),
      clock,
      pollIntervalMs: 20,
    });
    stores = [];
    planners = [];
  });

  afterEach(async () => {
    await Promise.all(planners.map((planner) => planner.stop()));
    await Promise.all(stores.map((store) => store.close()));
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function instance(
    owner: string,
    leaseMs = LEASE_MS,
  ): { planner: LeasedPlanner; workStore: SqliteWorkStore; leases: SqliteNamedLeases } {
    const workStore = new SqliteWorkStore({ path: join(dir, 'work.sqlite') });
    const leases = new SqliteNamedLeases({ path: join(dir, 'work.sqlite') });
    const config = AppConfig.fromEnvironment({});
    const projection = new ProcessManagerProjection(workStore, config);
    const planner = new LeasedPlanner(eventStore, projection, leases, clock, owner, leaseMs);
    stores.push(workStore, leases);
    planners.push(planner);
    return { planner, workStore, leases };
  }

  async function request(clientId: string): Promise<string> {
    const transactionId = `00000000-0000-4000-8000-${clientId.padStart(12, '0')}`;
    await new TransactionStreams(eventStore, new CryptoIds()).handle(
      transactionId,
      {
        type: 'RequestTransaction',
        transactionId,
        owner: 'alice',
        clientId,
        request: { amount: 500, currency: 'KES', recipient: 'bob', note: null },
        requestedAt: clock.now().toISOString(),
      },
      { correlationId: 'test', causationId: 'test', actor: 'customer:alice' },
    );
    return transactionId;
  }

  async function eventually(condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('runs on exactly one instance; the other stands by at the shared checkpoint', async () => {
    const a = instance('A');
    const b = instance('B');
    await a.planner.start();
    await b.planner.start();
    const transactionId = await request('1');

    await eventually(async () => (await a.workStore.pending(transactionId)).length > 0);

    expect((await a.planner.status()).active).toBe(true);
    const standby = await b.planner.status();
    expect(standby.active).toBe(false);
    await eventually(
      async () => (await b.planner.status()).checkpoint === (await eventStore.headPosition()),
    );
    expect(await b.workStore.pending(transactionId)).toEqual(
      await a.workStore.pending(transactionId),
    );
  });

  it('lets a standby take over at its next lease check when the holder stops', async () => {
    // Lease checks come every third of a lease: a short one keeps the test quick.
    const a = instance('A', 300);
    const b = instance('B', 300);
    await a.planner.start();
    await b.planner.start();
    const first = await request('1');
    await eventually(async () => (await a.workStore.pending(first)).length > 0);

    await a.planner.stop();
    clock.set(new Date(T0.getTime() + 1_000));
    const second = await request('2');

    await eventually(async () => (await b.workStore.pending(second)).length > 0);
    expect((await b.planner.status()).active).toBe(true);
  });

  it('keeps trying when starting the planner fails, and runs once the store answers', async () => {
    const a = instance('A', 300);
    jest.spyOn(a.workStore, 'checkpoint').mockRejectedValueOnce(new Error('store unreachable'));
    await a.planner.start();
    expect((await a.planner.status()).active).toBe(false);
    const transactionId = await request('1');

    await eventually(async () => (await a.workStore.pending(transactionId)).length > 0);
    expect((await a.planner.status()).active).toBe(true);
  });

  it("takes over a dead holder's lease only once it has run out", async () => {
    const dead = instance('dead');
    // The dead instance took the lease and never renewed it (killed without a goodbye).
    expect(await dead.leases.acquire(PLANNER_LEASE, 'dead', T0.getTime(), LEASE_MS)).toBe(true);
    const b = instance('B');
    await b.planner.start();
    const transactionId = await request('1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await b.planner.status()).active).toBe(false);
    expect(await b.workStore.pending(transactionId)).toEqual([]);

    clock.set(new Date(T0.getTime() + LEASE_MS));
    // The next lease check comes a third of a lease later in real time: ask now instead.
    await b.planner.stop();
    await b.planner.start();

    await eventually(async () => (await b.workStore.pending(transactionId)).length > 0);
  });

  it('never applies a batch twice: a planner behind the stored checkpoint is refused', async () => {
    const a = instance('A');
    await a.planner.start();
    const transactionId = await request('1');
    await eventually(async () => (await a.workStore.pending(transactionId)).length > 0);
    const [event] = await eventStore.readStream(`transaction-${transactionId}`);

    const stalled = new ProcessManagerProjection(a.workStore, AppConfig.fromEnvironment({}));
    await expect(stalled.apply([event], event.position)).rejects.toBeInstanceOf(
      StaleCheckpointError,
    );
  });
});
