import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AccountStreams } from '../accounts/account-streams';
import { AppConfig } from '../config/app-config';
import { SettableClock } from '../event-store/event-store.contract';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { HttpPaymentProvider } from '../provider/http/http-payment-provider';
import { BudgetedStatusCheck } from '../provider/status-checks/budgeted-status-check';
import { SqliteStatusCheckBudget } from '../provider/status-checks/sqlite/sqlite-status-check-budget';
import { WebhookUrls } from '../provider-webhooks/webhook-urls';
import { MathRandom, SeededRandom } from '../shared/random';
import { TransactionFunds } from '../transactions/transaction-funds';
import { TransactionStreams } from '../transactions/transaction-streams';
import { ClientNotifier } from './client-notifier';
import { ProcessManagerProjection } from './process-manager.projection';
import { ProcessManagerWorker } from './process-manager.worker';
import { SqliteNamedLeases } from './sqlite/sqlite-named-leases';
import { SqliteWorkStore } from './sqlite/sqlite-work-store';
import { CheckHandler } from './work-handlers/check.handler';
import { DeadlineHandler } from './work-handlers/deadline.handler';
import { NotifyHandler } from './work-handlers/notify.handler';
import { SettleHandler } from './work-handlers/settle.handler';
import { SubmitHandler } from './work-handlers/submit.handler';
import { WorkHandlers } from './work-handlers/work-handlers';
import { CryptoIds } from '../shared/ids';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const TRANSACTION_ID = '00000000-0000-4000-8000-000000000001';

describe('ProcessManagerWorker', () => {
  let dir: string;
  let eventStore: SqliteEventStore;
  let workStore: SqliteWorkStore;
  let budget: SqliteStatusCheckBudget;
  let leases: SqliteNamedLeases;
  let worker: ProcessManagerWorker;
  let streams: TransactionStreams;
  let clock: SettableClock;
  let handlers: WorkHandlers;
  let statusCheck: BudgetedStatusCheck;
  let releaseGates: () => void = () => undefined;

  /** A worker on the same stores with other settings; it replaces the one afterEach stops. */
  function workerWith(env: Record<string, string>): ProcessManagerWorker {
    const config = AppConfig.fromEnvironment({
      DATA_DIR: dir,
      PROVIDER_URL: 'http://127.0.0.1:9',
      SERVICE_ROLE: 'worker',
      WORKER_POLL_INTERVAL_MS: '10',
      ...env,
    });
    worker = new ProcessManagerWorker(
      workStore,
      handlers,
      statusCheck,
      new ProcessManagerProjection(workStore, config),
      clock,
      config,
      eventStore,
      leases,
      new CryptoIds(),
    );
    return worker;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'worker-'));
    clock = new SettableClock(T0);
    const config = AppConfig.fromEnvironment({
      DATA_DIR: dir,
      PROVIDER_URL: 'http://127.0.0.1:9',
      SERVICE_ROLE: 'worker',
      WORKER_MAX_STEP_FAILURES: '3',
      WORKER_POLL_INTERVAL_MS: '10',
    });
    eventStore = new SqliteEventStore({
      path: join(dir, 'events.sqlite'),
      clock,
      pollIntervalMs: 10,
    });
    workStore = new SqliteWorkStore({ path: join(dir, 'work.sqlite') });
    budget = new SqliteStatusCheckBudget({ path: join(dir, 'work.sqlite') });
    leases = new SqliteNamedLeases({ path: join(dir, 'work.sqlite') });
    streams = new TransactionStreams(eventStore, new CryptoIds());
    const provider = new HttpPaymentProvider({
      baseUrl: config.provider.url!,
      submitTimeoutMs: 1_000,
      statusTimeoutMs: 1_000,
      connections: 1,
    });
    const random = new SeededRandom(1);
    const accounts = new AccountStreams(eventStore, new MathRandom(), new CryptoIds());
    const funds = new TransactionFunds(accounts, streams, clock, config);
    statusCheck = new BudgetedStatusCheck(provider, budget, clock, config);
    handlers = new WorkHandlers(
      new SubmitHandler(streams, funds, provider, new WebhookUrls(config), clock, random, config),
      new CheckHandler(streams, statusCheck, clock, random, config),
      new DeadlineHandler(streams, clock),
      new NotifyHandler(streams, new ClientNotifier(config, clock), clock, random),
      new SettleHandler(streams, accounts, clock, config),
    );
    workerWith({ WORKER_MAX_STEP_FAILURES: '3' });
  });

  afterEach(async () => {
    // A failed test's gated steps would otherwise keep the worker's shutdown waiting.
    releaseGates();
    await worker.beforeApplicationShutdown();
    await workStore.close();
    await budget.close();
    await leases.close();
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Lets the worker's loop run until `condition` holds, moving the clock past each retry delay. */
  async function until(condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s');
      clock.set(new Date(clock.now().getTime() + 10_000));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Waits, without moving the clock, until `condition` holds. */
  async function waitFor(condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const isDone = (transactionId: string) => async () =>
    (await workStore.pending(transactionId)).length === 0;
  const check = (transactionId: string, dueAt: number) => ({
    transactionId,
    kind: 'check' as const,
    dueAt,
    payload: { attempt: 1, checkNumber: 1 },
  });
  /** What the worker's status-check claims returned, in order. */
  function claimedChecks(): string[] {
    const claimed: string[] = [];
    const claimDue = workStore.claimDue.bind(workStore);
    jest.spyOn(workStore, 'claimDue').mockImplementation(async (...args) => {
      const items = await claimDue(...args);
      claimed.push(...items.filter((item) => item.kind === 'check').map((i) => i.transactionId));
      return items;
    });
    return claimed;
  }

  it('claims status checks one per token of the shared budget, oldest first, at its pace', async () => {
    // Transactions the event store does not hold: each check is settled as no longer planned.
    const [a, b, c] = ['a', 'b', 'c'].map((n) => `00000000-0000-4000-8000-00000000000${n}`);
    await workStore.commit(
      {
        schedule: [
          check(c, T0.getTime() - 1),
          check(a, T0.getTime() - 3),
          check(b, T0.getTime() - 2),
        ],
        cancel: [],
      },
      { firstPosition: 1n, checkpoint: 1n },
    );
    const claimed = claimedChecks();

    await worker.onApplicationBootstrap();
    await waitFor(isDone(a));
    // The clock stands still: the budget (2/s) has no second token, however often the loop runs.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(claimed).toEqual([a]);

    clock.set(new Date(T0.getTime() + 500));
    await waitFor(isDone(b));
    clock.set(new Date(T0.getTime() + 1_000));
    await waitFor(isDone(c));
    expect(claimed).toEqual([a, b, c]);
  });

  it('while the budget refuses, leaves a backlog of checks alone and still runs other work', async () => {
    const { statusChecks } = AppConfig.fromEnvironment({
      DATA_DIR: dir,
      PROVIDER_URL: 'http://127.0.0.1:9',
    }).provider;
    await budget.slowDown(T0.getTime(), T0.getTime() + 3_600_000, statusChecks);
    const backlog = Array.from({ length: 50 }, (_, index) =>
      check(`00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, T0.getTime() - index),
    );
    const deadline = {
      transactionId: '00000000-0000-4000-8000-ffffffffffff',
      kind: 'deadline' as const,
      dueAt: T0.getTime(),
      payload: {},
    };
    await workStore.commit(
      { schedule: [...backlog, deadline], cancel: [] },
      { firstPosition: 1n, checkpoint: 1n },
    );
    const handle = jest.spyOn(streams, 'handle').mockRejectedValue(new Error('not this time'));
    const claimed = claimedChecks();
    const backlogBefore = await workStore.backlog(T0.getTime());

    await worker.onApplicationBootstrap();
    await waitFor(async () => handle.mock.calls.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(claimed).toEqual([]);
    expect(backlogBefore.check).toBe(50);
    for (const item of backlog) {
      expect(await workStore.pending(item.transactionId)).toEqual([item]);
    }
  });

  it('when a step keeps failing, retries it, then parks it for support with the last error after the configured count', async () => {
    const handle = jest
      .spyOn(streams, 'handle')
      .mockRejectedValue(new Error('event store refused the append'));
    // Planned as the planner would for an event at position 1 (the event store stays empty).
    await workStore.commit(
      {
        schedule: [
          { transactionId: TRANSACTION_ID, kind: 'deadline', dueAt: T0.getTime(), payload: {} },
        ],
        cancel: [],
      },
      { firstPosition: 1n, checkpoint: 1n },
    );

    await worker.onApplicationBootstrap();
    await until(async () => (await workStore.parkedWork(10)).length > 0);

    expect(handle).toHaveBeenCalledTimes(3);
    expect(await workStore.parkedWork(10)).toEqual([
      expect.objectContaining({
        transactionId: TRANSACTION_ID,
        kind: 'deadline',
        reason: 'event store refused the append',
        payload: { stepFailures: 2 },
      }),
    ]);
    // Parked: the worker takes it no more, however long it waits.
    clock.set(new Date(clock.now().getTime() + 3_600_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(handle).toHaveBeenCalledTimes(3);
  });

  it('starts claimed steps one event-loop turn apart, so sockets are served between them', async () => {
    const order: string[] = [];
    const recording = {
      perform: async (work: { transactionId: string }) => {
        order.push(`start ${work.transactionId}`);
        // What a step's socket I/O waits for: the event loop's next turn.
        setImmediate(() => order.push(`turn after ${work.transactionId}`));
        return true as const;
      },
    };
    jest.spyOn(handlers, 'for').mockReturnValue(recording);
    const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
    await workStore.commit(
      {
        schedule: ids.map((transactionId) => ({
          transactionId,
          kind: 'deadline' as const,
          dueAt: T0.getTime(),
          payload: {},
        })),
        cancel: [],
      },
      { firstPosition: 1n, checkpoint: 1n },
    );

    await worker.onApplicationBootstrap();
    await until(async () => order.length === 4);

    expect(order).toEqual([
      `start ${ids[0]}`,
      `turn after ${ids[0]}`,
      `start ${ids[1]}`,
      `turn after ${ids[1]}`,
    ]);
  });
  /** A handler whose steps wait until released, recording which started. */
  function gatedSteps() {
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    jest.spyOn(handlers, 'for').mockReturnValue({
      perform: (work: { transactionId: string }) => {
        started.push(work.transactionId);
        return new Promise<true>((resolve) => gates.set(work.transactionId, () => resolve(true)));
      },
    });
    const release = (transactionId: string) => gates.get(transactionId)?.();
    releaseGates = () => [...gates.values()].forEach((go) => go());
    return { started, release, releaseAll: releaseGates };
  }

  const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const item = (n: number, kind: 'submit' | 'deadline') => ({
    transactionId: idOf(n),
    kind,
    dueAt: T0.getTime(),
    payload: { attempt: 1 },
  });
  const plan = (...items: ReturnType<typeof item>[]) =>
    workStore.commit({ schedule: items, cancel: [] }, { firstPosition: 1n, checkpoint: 1n });

  it('submissions wait for the provider in slots of their own, and the other work still runs', async () => {
    const worker = workerWith({ WORKER_CONCURRENCY: '1', WORKER_SUBMIT_CONCURRENCY: '3' });
    const steps = gatedSteps();
    await plan(
      ...[1, 2, 3, 4].map((n) => item(n, 'submit')),
      ...[5, 6].map((n) => item(n, 'deadline')),
    );

    await worker.onApplicationBootstrap();
    await waitFor(async () => steps.started.length === 4);
    // Three submissions (their own limit) and one deadline (WORKER_CONCURRENCY) at once.
    expect(steps.started.sort()).toEqual([idOf(1), idOf(2), idOf(3), idOf(5)]);

    steps.release(idOf(5));
    await waitFor(async () => steps.started.includes(idOf(6)));
    expect(steps.started).not.toContain(idOf(4));
    steps.release(idOf(1));
    await waitFor(async () => steps.started.includes(idOf(4)));
    steps.releaseAll();
    await waitFor(async () => (await workStore.backlog(T0.getTime())).submit === 0);
  });

  it('renews the leases of every step in hand in one call per interval, and logs a lost one without stopping its step', async () => {
    const worker = workerWith({ WORKER_LEASE_MS: '300' });
    const steps = gatedSteps();
    const renewals = jest.spyOn(workStore, 'renewLeases');
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await plan(item(1, 'deadline'), item(2, 'deadline'));

    await worker.onApplicationBootstrap();
    await waitFor(async () => renewals.mock.calls.some(([, works]) => works.length === 2));
    // A newer plan replaces item 2 while its step runs: its claim can no longer be renewed.
    const replan = { ...item(2, 'deadline'), dueAt: T0.getTime() + 60_000, payload: { n: 2 } };
    await workStore.commit(
      { schedule: [replan], cancel: [] },
      { firstPosition: 2n, checkpoint: 2n },
    );
    await waitFor(async () =>
      warn.mock.calls.some(([, message]) => message === 'lease lost while the step runs'),
    );
    const callsAfterLoss = renewals.mock.calls.length;
    await waitFor(async () => renewals.mock.calls.length > callsAfterLoss);

    const held = renewals.mock.calls.at(-1)?.[1].map((work) => work.transactionId);
    expect(held).toEqual([idOf(1)]);
    // The step with the lost lease went on; its end leaves the newer plan alone.
    steps.releaseAll();
    await waitFor(isDone(idOf(1)));
    expect(await workStore.pending(idOf(2))).toEqual([replan]);
  });

  it('never runs two renewals at once: one due meanwhile runs after the slow one, with the time then', async () => {
    const worker = workerWith({ WORKER_LEASE_MS: '300' });
    const steps = gatedSteps();
    const renew = workStore.renewLeases.bind(workStore);
    let finishSlow: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (finishSlow = resolve));
    const renewals = jest
      .spyOn(workStore, 'renewLeases')
      .mockImplementationOnce(async (...args) => {
        await slow;
        return renew(...args);
      });
    await plan(item(1, 'deadline'));

    await worker.onApplicationBootstrap();
    await waitFor(async () => renewals.mock.calls.length === 1);
    // Within the lease: the worker does not claim its own item again.
    clock.set(new Date(T0.getTime() + 200));
    // Three renewal periods pass while the first call hangs.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(renewals).toHaveBeenCalledTimes(1);

    finishSlow();
    await waitFor(async () => renewals.mock.calls.length >= 2);
    expect(renewals.mock.calls[1][2]).toBe(T0.getTime() + 200);
    steps.releaseAll();
  });

  it('on shutdown, lets steps finishing within half of SHUTDOWN_TIMEOUT_MS record their end, and leaves the rest to lease expiry', async () => {
    const worker = workerWith({ SHUTDOWN_TIMEOUT_MS: '8000', WORKER_LEASE_MS: '300' });
    const steps = gatedSteps();
    const renewals = jest.spyOn(workStore, 'renewLeases');
    await plan(item(1, 'submit'), item(2, 'deadline'));
    await worker.onApplicationBootstrap();
    await waitFor(async () => steps.started.length === 2);

    let stopped = false;
    const stopping = worker.beforeApplicationShutdown().then(() => (stopped = true));
    steps.release(idOf(2));
    await waitFor(isDone(idOf(2)));
    clock.set(new Date(T0.getTime() + 3_999));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);

    clock.set(new Date(T0.getTime() + 4_000));
    await stopping;

    // The submission still waiting stays in the store, its lease no longer renewed: once it
    // runs out another instance takes the item (and its SubmitHandler, finding the attempt
    // started with no answer, records it interrupted and checks, never POSTs again).
    const renewed = renewals.mock.calls.length;
    await waitFor(async () => renewals.mock.calls.length === renewed);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(renewals).toHaveBeenCalledTimes(renewed);
    expect(await workStore.pending(idOf(1))).toEqual([item(1, 'submit')]);
    expect(await workStore.claimDue('other', T0.getTime() + 4_300, 300, 10)).toEqual([
      expect.objectContaining({ transactionId: idOf(1), kind: 'submit', leaseOwner: 'other' }),
    ]);
    steps.releaseAll();
  });
});
