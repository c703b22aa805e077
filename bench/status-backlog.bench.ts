import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { AccountStreams } from '../src/accounts/account-streams';
import { AppConfig } from '../src/config/app-config';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store';
import { ClientNotifier } from '../src/process-manager/client-notifier';
import { ProcessManagerProjection } from '../src/process-manager/process-manager.projection';
import { ProcessManagerWorker } from '../src/process-manager/process-manager.worker';
import { SqliteNamedLeases } from '../src/process-manager/sqlite/sqlite-named-leases';
import { SqliteWorkStore } from '../src/process-manager/sqlite/sqlite-work-store';
import { CheckHandler } from '../src/process-manager/work-handlers/check.handler';
import { DeadlineHandler } from '../src/process-manager/work-handlers/deadline.handler';
import { NotifyHandler } from '../src/process-manager/work-handlers/notify.handler';
import { SettleHandler } from '../src/process-manager/work-handlers/settle.handler';
import { SubmitHandler } from '../src/process-manager/work-handlers/submit.handler';
import { WorkHandlers } from '../src/process-manager/work-handlers/work-handlers';
import type { WorkItem } from '../src/process-manager/work-queue.port';
import { HttpPaymentProvider } from '../src/provider/http/http-payment-provider';
import { BudgetedStatusCheck } from '../src/provider/status-checks/budgeted-status-check';
import { SqliteStatusCheckBudget } from '../src/provider/status-checks/sqlite/sqlite-status-check-budget';
import { WebhookUrls } from '../src/provider-webhooks/webhook-urls';
import { SystemClock } from '../src/shared/clock';
import { CryptoIds } from '../src/shared/ids';
import { MathRandom } from '../src/shared/random';
import { TransactionFunds } from '../src/transactions/transaction-funds';
import { streamNameFor, transactionIdFor } from '../src/transactions/transaction-id';
import { TransactionStreams } from '../src/transactions/transaction-streams';
import type { TransactionEvent } from '../src/transactions/transaction.events';
import { toNewEvents } from './support/generated-store';

const USAGE = `Usage: npm run bench:status-backlog -- [options]

Seeds B transactions waiting on a due status check (events in a real SQLite event store, their
check items in the real SQLite work store), points the provider at a closed port (every check
the budget allows fails to connect), runs the real process manager worker for S real seconds
and counts what it does per second: work-store calls and rows, budget calls, CPU, event-loop
delay. Then prints the ratio of the largest backlog to the smallest (goal: ~1, the work is
bounded by the status-check budget, not by what waits) and whether checks left oldest first.

  --backlogs <list>   comma-separated backlog sizes (default 100,100000)
  --seconds <n>       real seconds the worker runs per backlog (default 10)
  --rate <n>          STATUS_CHECK_RATE, checks per second (default 2, the product default)
`;

/** Seeded transactions are appended this many at a time, so the store group-commits them. */
const SEED_BATCH = 2_000;
const SEEDED_AT = Date.UTC(2026, 0, 1);

/** A submission that timed out and now waits on its first status check, due `dueAt`. */
function waitingOnCheck(index: number): { transactionId: string; events: TransactionEvent[] } {
  const owner = `owner-${index % 100}`;
  const clientId = `backlog-${index}`;
  const transactionId = transactionIdFor(owner, clientId);
  // Transaction i was due i ms after transaction 0: index order is age order.
  const at = (ms: number) => new Date(SEEDED_AT + index + ms).toISOString();
  return {
    transactionId,
    events: [
      {
        type: 'TransactionRequested',
        data: {
          transactionId,
          owner,
          clientId,
          amount: 1000,
          currency: 'KES',
          recipient: `+2547${String(index).padStart(8, '0')}`,
          note: null,
          requestedAt: at(0),
        },
      },
      { type: 'ProviderSubmissionStarted', data: { attempt: 1, startedAt: at(0) } },
      {
        type: 'ProviderTimedOut',
        data: { attempt: 1, reason: 'gateway_timeout', detail: '504', at: at(0) },
      },
      {
        type: 'StatusCheckScheduled',
        data: { attempt: 1, checkNumber: 1, dueAt: at(0), reason: 'gateway_timeout' },
      },
    ],
  };
}

/** Appends the transactions' events, and their check items as the planner would plan them. */
async function seed(events: SqliteEventStore, work: SqliteWorkStore, backlog: number) {
  const order: string[] = [];
  for (let first = 0; first < backlog; first += SEED_BATCH) {
    const lives = Array.from({ length: Math.min(SEED_BATCH, backlog - first) }, (_, offset) =>
      waitingOnCheck(first + offset),
    );
    await Promise.all(
      lives.map(({ transactionId, events: lifeEvents }) =>
        events.appendToStream(
          streamNameFor(transactionId),
          toNewEvents(lifeEvents, 'process-manager'),
          {
            expectedRevision: 'no_stream',
          },
        ),
      ),
    );
    order.push(...lives.map((life) => life.transactionId));
  }
  const schedule: WorkItem[] = order.map((transactionId, index) => ({
    transactionId,
    kind: 'check',
    dueAt: SEEDED_AT + index,
    payload: { attempt: 1, checkNumber: 1 },
  }));
  // Checkpointed at the head: the planner starts after the seeded events, as on a restart.
  const head = await events.headPosition();
  await work.commit({ schedule, cancel: [] }, { firstPosition: 1n, checkpoint: head });
  return order;
}

/** Counts every call to `target`'s methods by name, and the items each claim returned. */
function counted<T extends object>(target: T, counts: Map<string, number>): T {
  const add = (name: string, by = 1) => counts.set(name, (counts.get(name) ?? 0) + by);
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        add(property);
        const result: unknown = Reflect.apply(value, object, args);
        if (property === 'claimDue') {
          void (result as Promise<unknown[]>).then((items) => add('claimed items', items.length));
        }
        return result;
      };
    },
  });
}

interface Measured {
  backlog: number;
  seconds: number;
  perSecond: Map<string, number>;
  cpuMsPerSecond: number;
  loopDelayP99Ms: number;
  timerLateMs: number;
  checkedInAgeOrder: boolean;
  checked: number;
}

async function measure(backlog: number, seconds: number, rate: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'status-backlog-'));
  const clock = new SystemClock();
  const config = AppConfig.fromEnvironment({
    DATA_DIR: dir,
    // A closed port on the loopback: every check the budget lets through fails to connect.
    PROVIDER_URL: 'http://127.0.0.1:9',
    SERVICE_ROLE: 'worker',
    STATUS_CHECK_RATE: String(rate),
    STATUS_CHECK_MIN_RATE: String(Math.min(rate, 0.2)),
    LOG_LEVEL: 'silent',
  });
  const eventStore = new SqliteEventStore({ path: join(dir, 'events.sqlite'), clock });
  const workStore = new SqliteWorkStore({ path: join(dir, 'work.sqlite') });
  const budget = new SqliteStatusCheckBudget({ path: join(dir, 'work.sqlite') });
  const leases = new SqliteNamedLeases({ path: join(dir, 'work.sqlite') });
  try {
    const order = await seed(eventStore, workStore, backlog);
    const counts = new Map<string, number>();
    const provider = new HttpPaymentProvider({
      baseUrl: config.provider.url!,
      submitTimeoutMs: 1_000,
      statusTimeoutMs: 1_000,
      connections: 1,
    });
    const checkedIds: string[] = [];
    const checkStatus = provider.checkStatus.bind(provider);
    provider.checkStatus = (providerId, sendBy) => {
      checkedIds.push(providerId);
      return checkStatus(providerId, sendBy);
    };
    const queue = counted(workStore, counts);
    const streams = new TransactionStreams(eventStore, new CryptoIds());
    const random = new MathRandom();
    const accounts = new AccountStreams(eventStore, random, new CryptoIds());
    const funds = new TransactionFunds(accounts, streams, clock, config);
    const statusCheck = new BudgetedStatusCheck(provider, counted(budget, counts), clock, config);
    const handlers = new WorkHandlers(
      new SubmitHandler(streams, funds, provider, new WebhookUrls(config), clock, random, config),
      new CheckHandler(streams, statusCheck, clock, random, config),
      new DeadlineHandler(streams, clock),
      new NotifyHandler(streams, new ClientNotifier(config, clock), clock, random),
      new SettleHandler(streams, accounts, clock, config),
    );
    const worker = new ProcessManagerWorker(
      queue,
      handlers,
      statusCheck,
      new ProcessManagerProjection(queue, config),
      clock,
      config,
      eventStore,
      leases,
      new CryptoIds(),
    );

    // The seeding's garbage is not the worker's (npm run bench:status-backlog runs --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    loopDelay.enable();
    await worker.onApplicationBootstrap();
    await sleep(seconds * 1000);
    // A timer that fires late means the worker kept the event loop from turning.
    const timerLateMs = performance.now() - started - seconds * 1000;
    await worker.beforeApplicationShutdown();
    loopDelay.disable();
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);

    const perSecond = new Map([...counts].map(([name, count]) => [name, count / elapsed]));
    const oldest = new Set(order.slice(0, checkedIds.length));
    return {
      backlog,
      seconds: elapsed,
      perSecond,
      cpuMsPerSecond: (cpu.user + cpu.system) / 1000 / elapsed,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      timerLateMs,
      checked: checkedIds.length,
      checkedInAgeOrder: checkedIds.every((id) => oldest.has(id)),
    };
  } finally {
    await workStore.close();
    await budget.close();
    await leases.close();
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ROWS: [label: string, key: string][] = [
  ['claim calls', 'claimDue'],
  ['items claimed', 'claimed items'],
  ['reschedules', 'reschedule'],
  ['completions', 'complete'],
  ['plan commits', 'commit'],
  ['next-due reads', 'nextDueAt'],
  ['budget takes', 'take'],
];

function report(results: Measured[], rate: number): void {
  const cell = (value: number) => value.toFixed(1).padStart(12);
  const header = results.map((r) => `backlog ${r.backlog.toLocaleString('en')}`.padStart(16));
  const last = results[results.length - 1];
  const first = results[0];
  const ratio = (a: number, b: number) =>
    b === 0 ? (a === 0 ? '1.00' : 'inf') : (a / b).toFixed(2);
  console.log(`\nper second, provider unreachable, budget ${rate} checks/s`);
  console.log(`${''.padEnd(24)}${header.join('')}${'ratio'.padStart(10)}`);
  const line = (label: string, values: number[]) =>
    console.log(
      `${label.padEnd(24)}${values.map((v) => cell(v).padStart(16)).join('')}${ratio(
        values[values.length - 1],
        values[0],
      ).padStart(10)}`,
    );
  for (const [label, key] of ROWS)
    line(
      label,
      results.map((r) => r.perSecond.get(key) ?? 0),
    );
  line(
    'CPU ms',
    results.map((r) => r.cpuMsPerSecond),
  );
  line(
    'event-loop delay p99 ms',
    results.map((r) => r.loopDelayP99Ms),
  );
  line(
    'timer lateness ms',
    results.map((r) => r.timerLateMs / r.seconds),
  );
  line(
    'provider checks',
    results.map((r) => r.checked / r.seconds),
  );
  for (const r of results) {
    console.log(
      `backlog ${r.backlog}: ${r.checked} checks in ${r.seconds.toFixed(1)} s, ` +
        `oldest first: ${r.checkedInAgeOrder ? 'yes' : 'NO'}`,
    );
  }
  const writes = (r: Measured) =>
    ['claimDue', 'reschedule', 'complete', 'commit', 'take'].reduce(
      (sum, key) => sum + (r.perSecond.get(key) ?? 0),
      0,
    );
  console.log(
    `work-store and budget calls per second, ${last.backlog} / ${first.backlog}: ` +
      `${ratio(writes(last), writes(first))}; CPU: ${ratio(last.cpuMsPerSecond, first.cpuMsPerSecond)}`,
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      backlogs: { type: 'string', default: '100,100000' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const backlogs = values.backlogs.split(',').map(Number);
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  if (
    values.help ||
    backlogs.some((b) => !Number.isSafeInteger(b) || b <= 0) ||
    !(seconds > 0) ||
    !(rate > 0)
  ) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  // The worker's and the planner's log lines are not the measurement.
  Logger.overrideLogger(false);
  const results: Measured[] = [];
  for (const backlog of backlogs) {
    process.stdout.write(`backlog ${backlog}: seeding and running ${seconds} s...\n`);
    results.push(await measure(backlog, seconds, rate));
  }
  report(results, rate);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
