import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AccountBalancesProjection } from '../accounts/account-balances.projection';
import { compareAccountBalances } from '../accounts/compare-account-balances';
import { AppConfig } from '../config/app-config';
import { MemoryEventStorage, MemoryEventStore } from '../event-store/memory/memory-event-store';
import type { RecordedEvent } from '../event-store/event-store.port';
import {
  MemoryNamedLeases,
  MemoryLeaseStorage,
} from '../process-manager/memory/memory-named-leases';
import { MemoryWorkStorage, MemoryWorkStore } from '../process-manager/memory/memory-work-store';
import { ProjectionRunner } from '../projections/projection-runner';
import {
  MemoryBudgetStorage,
  MemoryStatusCheckBudget,
} from '../provider/status-checks/memory/memory-status-check-budget';
import { WebhookUrls } from '../provider-webhooks/webhook-urls';
import { maxChecksInAnySecond } from '../provider/status-checks/budgeted-status-check';
import {
  MemoryAccountReadModel,
  MemoryAccountReadModelStorage,
} from '../read-model/memory/memory-account-read-model';
import { MemoryReadModel, MemoryReadModelStorage } from '../read-model/memory/memory-read-model';
import { SeededIds } from '../shared/ids';
import { Random, SeededRandom } from '../shared/random';
import {
  TRANSACTION_CATEGORY,
  streamNameFor,
  transactionIdFor,
} from '../transactions/transaction-id';
import { TransactionChanges } from '../transactions/transaction-changes';
import { TransactionSummaryProjection } from '../transactions/transaction-summary.projection';
import { Customers } from './customers';
import { FaultCounts, FaultPlan, FaultSelection } from './fault-plan';
import { FaultyEventStore, FaultyProjection } from './faulty-stores';
import {
  SubmissionTruth,
  Violation,
  checkDeadline,
  checkEndOfRun,
  foldTransaction,
} from './invariants';
import { LeaseWatch } from './lease-watch';
import { NodeFaults } from './node-faults';
import { ObservedProvider } from './observed-provider';
import { SharedStores, SimulatedNode } from './simulated-node';
import { SimulatedProvider, openSimulatedProvider } from './simulated-provider';
import { SimulationTrace, TraceLogger } from './simulation-trace';
import { SupportDesk } from './support-desk';
import { VirtualTime, fork } from './virtual-time';
import { WebhookDelivery } from './webhook-delivery';
import { generateWorkload } from './workload';

export interface SeedOptions {
  seed: number;
  transactions: number;
  faults: FaultSelection;
}

export interface SeedResult {
  seed: number;
  plan: FaultPlan;
  /** The provider's fault windows and shares drawn for the seed. */
  providerPlan: string;
  transactions: number;
  faults: FaultCounts;
  violations: Violation[];
  /** Virtual milliseconds the run covered. */
  simulatedMs: number;
  /** The last lines of the trace, for a failing seed. */
  trace: string[];
  /** Every event of `$all` as stored (ids, types, data, metadata, hashes): what replay must repeat. */
  eventLog: string;
}

/** A node is up again this long after its crash, at most. */
const LONGEST_RESTART_MS = 60_000;
/** Extra time past a deadline for a dead node's leases to expire and another to take over. */
const DEADLINE_SLACK_MS = 180_000;
/** How often support looks at its queue, and the run sweeps the deadlines. */
const SUPPORT_ROUND_MS = 60_000;
const SWEEP_MS = 30_000;
/** After the last deadline: no more crashes, time for support and the projections to finish. */
const WIND_DOWN_MS = 300_000;
/**
 * Crashes strike until this long after the last customer action: while transactions are in
 * flight (a submit waits up to 35 s, checks back off up to a minute), not in the idle time a
 * quiescent run no longer waits through.
 */
const CRASH_WINDOW_AFTER_MS = 120_000;
const STEP_MS = 10_000;
const WEBHOOK_SECRET = 'simulation-webhook-secret-0000000000000000';

function configFor(plan: FaultPlan): AppConfig {
  return AppConfig.fromEnvironment({
    NODE_ENV: 'test',
    DATA_DIR: '/nonexistent/simulation',
    WEBHOOK_SECRET,
    PUBLIC_BASE_URL: 'http://ledger.simulated',
    // Idle workers poll less often: a worker also wakes when its node's planner schedules work,
    // when a step ends and when the next item falls due, and each poll costs real time.
    WORKER_POLL_INTERVAL_MS: '5000',
    // Lease races: short leases, so slow calls and pauses outlive them.
    ...(plan.has('lease-race') ? { WORKER_LEASE_MS: '4000', PLANNER_LEASE_MS: '3000' } : {}),
  });
}

/**
 * One seed, start to end, in virtual time: the shared in-memory stores, two or three nodes of the
 * real service (more as crashed ones are replaced), a projector for the read models, the
 * simulated provider, the customers, support, and the faults of the seed's plan; then the
 * invariants over everything that happened. Everything random is drawn from the seed.
 */
export async function runSeed({ seed, transactions, faults }: SeedOptions): Promise<SeedResult> {
  const root = new SeededRandom(seed);
  const plan = FaultPlan.draw(faults, fork(root));
  const random = {
    workload: fork(root),
    faults: fork(root),
    service: fork(root),
    ids: fork(root),
    provider: fork(root),
    webhooks: fork(root),
    customers: fork(root),
    support: fork(root),
  };
  const time = new VirtualTime();
  const trace = new SimulationTrace(time);
  Logger.overrideLogger(new TraceLogger(trace));
  try {
    return await new SimulationRun(seed, plan, transactions, time, trace, random).run();
  } finally {
    time.uninstall();
    Logger.overrideLogger(false);
  }
}

interface RunRandom {
  workload: Random;
  faults: Random;
  service: Random;
  ids: Random;
  provider: Random;
  webhooks: Random;
  customers: Random;
  support: Random;
}

class SimulationRun {
  private readonly config: AppConfig;
  private readonly counts = new FaultCounts();
  private readonly violations: Violation[] = [];
  private readonly events = new MemoryEventStorage();
  private readonly readModels = new MemoryReadModelStorage();
  private readonly accountReadModels = new MemoryAccountReadModelStorage();
  private readonly stores: SharedStores;
  /** The simulator's own view of the events: no faults, never crashes. */
  private readonly observer: MemoryEventStore;
  private readonly nodes: SimulatedNode[] = [];
  private projector: { faults: NodeFaults; runners: ProjectionRunner[] } | null = null;
  private nodeCount = 0;
  private readonly webhookUrls: WebhookUrls;
  private readonly provider: ObservedProvider;
  private readonly truthOf: (providerId: string) => readonly SubmissionTruth[];
  private readonly simulated: SimulatedProvider;
  private readonly seen = new Set<string>();
  /** Requested transactions not yet seen final or in a case: the deadline sweep's list. */
  private readonly unsettled = new Set<string>();
  /** Virtual time skipped by clock jumps: deadlines stretch by as much. */
  private jumped = 0;
  /** Customer actions, crashes and restarts scheduled or under way: the run is not over. */
  private scenarioTasks = 0;
  private readonly workStorage = new MemoryWorkStorage();
  private readonly webhooks: WebhookDelivery;

  constructor(
    private readonly seed: number,
    private readonly plan: FaultPlan,
    private readonly transactions: number,
    private readonly time: VirtualTime,
    private readonly trace: SimulationTrace,
    private readonly random: RunRandom,
  ) {
    this.config = configFor(plan);
    const workStorage = this.workStorage;
    const leaseStorage = new MemoryLeaseStorage();
    const budgetStorage = new MemoryBudgetStorage();
    this.stores = {
      openEventStore: () => new MemoryEventStore(this.events, time),
      workStore: new MemoryWorkStore(workStorage),
      leases: new MemoryNamedLeases(leaseStorage),
      budget: new MemoryStatusCheckBudget(budgetStorage),
      leaseWatch: new LeaseWatch((violation) => this.violated(violation)),
    };
    this.observer = new MemoryEventStore(this.events, time);
    this.webhookUrls = new WebhookUrls(this.config);
    this.webhooks = new WebhookDelivery(
      plan,
      random.webhooks,
      this.counts,
      trace,
      () => this.liveNode(),
      (transactionId) => this.ledgerState(transactionId),
      () => [...this.seen],
      (violation) => this.violated(violation),
    );
    const simulated = openSimulatedProvider({
      plan,
      random: random.provider,
      clock: time,
      submitTimeoutMs: this.config.provider.submitTimeoutMs,
      durationMs: Math.max(60_000, transactions * 1_000),
      deliver: (url, body) => this.webhooks.send(url, body),
    });
    this.simulated = simulated;
    this.truthOf = simulated.truthOf;
    this.provider = new ObservedProvider(
      simulated.provider,
      simulated.truthOf,
      simulated.received,
      time,
      {
        lateWindowMs: this.config.provider.policy.lateWindowMs,
        checksPerSecond: this.config.provider.statusChecks.ratePerSecond,
        maxChecksInAnySecond: maxChecksInAnySecond(this.config.provider.statusChecks.ratePerSecond),
      },
      (violation) => this.violated(violation),
    );
  }

  async run(): Promise<SeedResult> {
    const workload = generateWorkload(this.random.workload, this.transactions);
    const deadlineMs = this.config.provider.reconciliationDeadlineMs + DEADLINE_SLACK_MS;
    const faultsEndAt = workload.lastActionAt + deadlineMs;
    const endAt = faultsEndAt + WIND_DOWN_MS;

    // Lease races are a setting of the whole seed (three nodes, short leases): counted once.
    if (this.plan.has('lease-race')) this.counts.count('lease-race');
    const initialNodes = this.plan.has('lease-race') ? 3 : 2;
    for (let n = 0; n < initialNodes; n++) await this.time.whilePassing(this.startNode());
    await this.time.whilePassing(this.startProjector());

    const customers = new Customers(() => this.liveNode(), this.random.customers, this.trace);
    for (const action of workload.actions) {
      this.later(action.at, () => {
        if (action.kind === 'request') {
          const transactionId = transactionIdFor(action.owner, action.clientId);
          this.seen.add(transactionId);
          this.unsettled.add(transactionId);
        }
        // Every try of a customer ends (answered or timed out): the action is over when it does.
        return customers.perform(action);
      });
    }
    this.scheduleCrashes(workload.lastActionAt + CRASH_WINDOW_AFTER_MS, faultsEndAt);
    const support = new SupportDesk(
      new MemoryReadModel(this.readModels),
      this.truthOf,
      this.random.support,
      this.trace,
    );
    const supportRounds = setInterval(() => void this.supportRound(support), SUPPORT_ROUND_MS);
    const sweeps = setInterval(() => void this.sweepDeadlines(deadlineMs), SWEEP_MS);

    while (this.time.elapsed() < endAt) {
      await this.time.advance(STEP_MS);
      if (
        this.plan.has('clock-jump') &&
        this.time.elapsed() < faultsEndAt &&
        this.random.faults.next() < 0.02
      ) {
        const ms = 1_000 + Math.floor(this.random.faults.next() * 29_000);
        this.counts.count('clock-jump');
        this.trace.note('clock', `jumps ${ms} ms`);
        this.time.jump(ms);
        this.jumped += ms;
      }
      if (await this.quiescent()) break;
    }
    clearInterval(supportRounds);
    clearInterval(sweeps);
    await this.catchUpProjections();

    const events = await this.observer.readAll();
    const summaries = await new MemoryReadModel(this.readModels).loadSummaries([
      ...new Set(
        events
          .filter((event) => event.streamName.startsWith(`${TRANSACTION_CATEGORY}-`))
          .map((event) => event.streamName),
      ),
    ]);
    this.violations.push(
      ...checkEndOfRun({
        events,
        summaries,
        accountBalances: await compareAccountBalances(
          this.observer,
          new MemoryAccountReadModel(this.accountReadModels),
        ),
        submissionsOf: this.truthOf,
        now: this.time.now(),
        deadlineMs: deadlineMs + this.jumped,
      }),
    );
    for (const node of this.nodes) node.faults.crash('at the end of the run');
    this.simulated.countFaults(this.counts);
    await this.simulated.provider.close();
    this.projector?.faults.crash('at the end of the run');
    return {
      seed: this.seed,
      plan: this.plan,
      providerPlan: this.simulated.describePlan(),
      transactions: this.seen.size,
      faults: this.counts,
      violations: this.violations,
      simulatedMs: this.time.elapsed(),
      trace: this.trace.tail(40),
      eventLog: eventLogOf(events),
    };
  }

  /**
   * A task of the scenario at `ms` from now (a customer action, a crash, a restart): counted
   * from now until it starts, or until the promise it returns settles.
   */
  private later(ms: number, task: () => Promise<void> | void): void {
    this.scenarioTasks += 1;
    setTimeout(() => {
      void Promise.resolve(task()).finally(() => {
        this.scenarioTasks -= 1;
      });
    }, ms);
  }

  /**
   * Nothing left that could change the outcome: no customer action, crash or restart to come,
   * no node stalled, the provider with nothing scheduled and no webhook on its way, the planner at the head of
   * `$all` with no work left in the queue (pending, leased or parked), and every transaction
   * final with no open case (or never recorded: its customer gave up). Later virtual time would
   * only see idle polling; the end-of-run checks then run at once.
   */
  private async quiescent(): Promise<boolean> {
    if (this.scenarioTasks > 0 || this.webhooks.busy || !this.simulated.idle()) return false;
    if (this.nodes.some((node) => node.faults.stalled)) return false;
    const { rows, checkpoint } = this.workStorage;
    if (rows.size > 0 || checkpoint === null) return false;
    if (checkpoint < (await this.observer.headPosition())) return false;
    for (const transactionId of this.seen) {
      const state = await this.ledgerState(transactionId);
      if (state.exists && (state.status === 'PENDING' || state.reconciliation !== null)) {
        return false;
      }
    }
    return true;
  }

  private violated(violation: Violation): void {
    this.violations.push(violation);
    this.trace.note('invariant', `${violation.invariant}: ${violation.detail}`);
  }

  private liveNode(): SimulatedNode | null {
    const live = this.nodes.filter((node) => node.alive);
    if (live.length === 0) return null;
    return live[Math.floor(this.random.customers.next() * live.length)];
  }

  private async ledgerState(transactionId: string) {
    return foldTransaction(await this.observer.readStream(streamNameFor(transactionId)));
  }

  /**
   * A stall before a POST lasts past the work lease and the send window (so another node takes
   * the attempt over, and the POST would leave after its deadline), up to two late windows more.
   */
  private nodeFaults(name: string): NodeFaults {
    const { worker, provider } = this.config;
    const min = worker.leaseMs + provider.policy.sendWindowMs;
    const stall = { min, max: min + 2 * provider.policy.lateWindowMs };
    return new NodeFaults(
      name,
      this.plan,
      fork(this.random.faults),
      this.counts,
      this.trace,
      this.time,
      stall,
    );
  }

  private async startNode(): Promise<void> {
    this.nodeCount += 1;
    const name = `node-${this.nodeCount}`;
    const faults = this.nodeFaults(name);
    const node = new SimulatedNode(faults, this.stores, {
      config: this.config,
      clock: this.time,
      random: fork(this.random.service),
      ids: new SeededIds(fork(this.random.ids)),
      provider: this.provider,
      webhookUrls: this.webhookUrls,
    });
    this.nodes.push(node);
    this.trace.note(name, 'started');
    await node.start();
  }

  /** The read side: both projections, fed from `$all`, on a process that can crash too. */
  private async startProjector(): Promise<void> {
    this.nodeCount += 1;
    const faults = this.nodeFaults(`projector-${this.nodeCount}`);
    const eventStore = new FaultyEventStore(this.stores.openEventStore(), faults);
    const projections = [
      new TransactionSummaryProjection(
        new MemoryReadModel(this.readModels),
        new TransactionChanges(),
      ),
      new AccountBalancesProjection(new MemoryAccountReadModel(this.accountReadModels)),
    ];
    const runners = projections.map(
      (projection) => new ProjectionRunner(eventStore, new FaultyProjection(projection, faults)),
    );
    this.projector = { faults, runners };
    this.trace.note(faults.name, 'started');
    for (const runner of runners) await runner.start();
  }

  /**
   * Crashes at random moments of the run, each of a random node or the projector, striking at
   * its next store call; a replacement starts on the same stores up to a minute later. A
   * projection that stopped on a failed batch is restarted the same way, as an operator would.
   */
  private scheduleCrashes(until: number, watchUntil: number): void {
    // Counted until the replacement begins to start: a start can hang on a crash of its own.
    const restart = (start: () => Promise<void>) =>
      this.later(
        1_000 + Math.floor(this.random.faults.next() * (LONGEST_RESTART_MS - 1_000)),
        () => void start(),
      );
    const watch = setInterval(() => {
      const projector = this.projector;
      if (projector && projector.faults.alive && projector.runners.some((runner) => runner.error)) {
        projector.faults.crash('restarted: a projection stopped');
        this.projector = null;
        restart(() => this.startProjector());
      }
    }, SWEEP_MS);
    if (!this.plan.has('crash')) return;
    const crashes = 1 + Math.floor(this.random.faults.next() * (2 + this.transactions / 40));
    for (let n = 0; n < crashes; n++) {
      const at = Math.floor(this.random.faults.next() * until);
      const pickProjector = this.random.faults.next() < 0.2;
      this.later(at, () => {
        if (pickProjector && this.projector?.faults.alive) {
          const { faults } = this.projector;
          this.projector = null;
          faults.armCrash();
          this.later(2_000, () => faults.crash('between calls'));
          restart(() => this.startProjector());
          return;
        }
        const live = this.nodes.filter((node) => node.alive);
        if (live.length === 0) return;
        const victim = live[Math.floor(this.random.faults.next() * live.length)];
        victim.faults.armCrash();
        this.later(2_000, () => victim.faults.crash('between calls'));
        restart(() => this.startNode());
      });
    }
    setTimeout(() => clearInterval(watch), watchUntil + WIND_DOWN_MS);
  }

  private async supportRound(support: SupportDesk): Promise<void> {
    const node = this.liveNode();
    if (!node) return;
    await support.work(node).catch((error: unknown) => {
      this.trace.note('support', `round failed on ${node.name}: ${String(error)}`);
    });
  }

  /** Checks each transaction not yet final or a case against its deadline, until it is. */
  private async sweepDeadlines(deadlineMs: number): Promise<void> {
    for (const transactionId of this.unsettled) {
      const state = await this.ledgerState(transactionId);
      const late = checkDeadline(state, this.time.now().getTime(), deadlineMs + this.jumped);
      if (late) this.violated(late);
      const settled = state.exists && (state.status !== 'PENDING' || state.reconciliation !== null);
      if (late || settled) this.unsettled.delete(transactionId);
    }
  }

  /** Waits (in virtual time) for both projections to reach the head of `$all`. */
  private async catchUpProjections(): Promise<void> {
    const head = await this.observer.headPosition();
    for (let waited = 0; waited < 120_000; waited += 1_000) {
      const projector = this.projector;
      if (projector?.runners.every((runner) => runner.checkpoint >= head)) return;
      if (!projector || projector.runners.some((runner) => runner.error)) {
        projector?.faults.crash('restarted to catch up');
        await this.time.whilePassing(this.startProjector());
      }
      await this.time.advance(1_000);
    }
  }
}

function eventLogOf(events: readonly RecordedEvent[]): string {
  return events
    .map((event) =>
      JSON.stringify(event, (_key, value: unknown) =>
        typeof value === 'bigint' ? value.toString() : value,
      ),
    )
    .join('\n');
}

export function digestOf(eventLog: string): string {
  return createHash('sha256').update(eventLog).digest('hex').slice(0, 16);
}
