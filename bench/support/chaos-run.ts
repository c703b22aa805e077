/**
 * The chaos run of real processes (issue 14, point 7): the HTTP provider simulator and two or
 * three service instances as OS processes on one embedded data directory, phones paying through
 * them while a seeded monkey SIGKILLs and SIGSTOPs instances, then the invariants checked
 * against the simulator's ground truth and the audit of the data directory. `bench/chaos.ts` is
 * the command (`npm run chaos`); test/e2e/chaos.e2e.ts runs a small one in `npm test`.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { signingSecret } from '../../src/auth/signing-key';
import { issueToken } from '../../src/auth/token-issuer';
import { AppConfig } from '../../src/config/app-config';
import {
  REFERENCE_TIMINGS,
  compressedServiceEnv,
} from '../../src/provider-simulator/compressed-time';
import type { GroundTruth } from '../../src/provider-simulator/ground-truth';
import { defaultSimulatorOptions } from '../../src/provider-simulator/provider-simulator.options';
import { Random, SeededRandom } from '../../src/shared/random';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import type { TransactionView } from '../../src/transactions/transaction.view';
import { ChaosProcess } from './chaos-processes';
import { fundAccount } from './funding';
import { LOOPBACK, freePort } from './processes';
import { Distribution, ProviderTimeline, analyseMix, distribution } from './provider-mix-stats';

export interface ChaosOptions {
  transactions: number;
  instances: number;
  seed: number;
  /** Real seconds per provider second, for the simulator and the service alike. */
  scale: number;
  /** Phones paying at once; each pays one transaction at a time, to its final status. */
  phones: number;
  customers: number;
  kills: number;
  pauses: number;
  /** Share of requests a phone sends twice at once (to two instances). */
  duplicateShare: number;
  logLevel: string;
  /** Leaves the data directory, the process logs and the ground truth behind, for a post-mortem. */
  keepData: boolean;
  /** The built tree (`dist/`), holding src/main.js and the simulator's and audit's entries. */
  distDir: string;
}

export const DEFAULT_CHAOS_OPTIONS: Omit<ChaosOptions, 'distDir'> = {
  transactions: 2_000,
  instances: 3,
  seed: 20261205,
  scale: 0.1,
  phones: 48,
  customers: 10,
  kills: 24,
  pauses: 12,
  duplicateShare: 0.05,
  logLevel: 'warn',
  keepData: false,
};

export const INVARIANTS = [
  'one charge',
  'truthful final status',
  'status budget kept',
  'final or queued',
  'audit verify',
  'no 500',
  'answers as documented',
  'instances restart',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface ChaosReport {
  options: Omit<ChaosOptions, 'distDir'>;
  realSeconds: number;
  dataDir: string;
  transactions: { requested: number; accepted: number; final: number; reconciliation: number };
  client: {
    posts: number;
    duplicates: number;
    retries: number;
    gets: number;
    /** Requests the phone gave up waiting for (a paused or overloaded instance). */
    timeouts: number;
    /** Connections refused or cut (a killed instance). */
    errors: number;
  };
  kills: number;
  pauses: number;
  restarts: number;
  provider: {
    outcomes: GroundTruth['totals']['outcomes'];
    postsAnswered504: number;
    webhooksFailed: number;
    statusChecks: number;
    rejected429: number;
    bans: number;
  };
  finalSources: Record<string, number>;
  /** From our accept (createdAt) to the final status (finalizedAt), real seconds. */
  timeToFinalSeconds: Distribution | null;
  violations: Record<Invariant, string[]>;
  pass: boolean;
}

/** Provider seconds past the reconciliation deadline before a phone stops waiting. */
const GIVE_UP_MARGIN_SECONDS = 60;
/** Real time every bounded wait allows on top, for start-up and a loaded machine. */
const SLACK_MS = 10_000;
const READY_TIMEOUT_MS = 60_000;
const POST_TIMEOUT_MS = 3_000;
const WAIT_SECONDS = 2;
const PAGE_SIZE = 100;

type Answer = { kind: 'status'; status: number; body: string } | { kind: 'network' };

interface Customer {
  owner: string;
  token: string;
}

interface PaidTransaction {
  clientId: string;
  owner: string;
  accepted: boolean;
  settled: boolean;
}

/** A Random of its own per transaction: its behaviour depends on the seed and its index only. */
function randomFor(seed: number, label: string): Random {
  return new SeededRandom(createHash('sha256').update(`${seed}:${label}`).digest().readUInt32BE(0));
}

function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random.next();
}

export async function runChaos(options: ChaosOptions, signal: AbortSignal): Promise<ChaosReport> {
  const { distDir, ...shown } = options;
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-chaos-'));
  const violations = Object.fromEntries(INVARIANTS.map((name) => [name, [] as string[]])) as Record<
    Invariant,
    string[]
  >;
  const agent = new Agent({ connections: 64, keepAliveTimeout: 1_000 });
  const processes: ChaosProcess[] = [];
  const killEveryone = () => processes.forEach((child) => child.killNow());
  process.once('exit', killEveryone);
  // Every request of every phone listens to the run's signal at the same time.
  setMaxListeners(4 * options.phones + 16, signal);
  try {
    const simulatorPort = await freePort();
    const simulator = new ChaosProcess(
      'provider-simulator',
      simulatorPort,
      join(distDir, 'src', 'provider-simulator', 'main.js'),
      {
        PATH: process.env.PATH ?? '',
        SIM_HOST: LOOPBACK,
        SIM_PORT: String(simulatorPort),
        SIM_TIME_SCALE: String(options.scale),
        SIM_SEED: String(options.seed),
        SIM_LOG_LEVEL: options.logLevel,
      },
      join(dataDir, 'provider-simulator.log'),
      '/_sim/truth',
    );
    processes.push(simulator);
    await simulator.start(READY_TIMEOUT_MS);

    const serviceEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...compressedServiceEnv(simulator.baseUrl, options.scale),
      DATA_DIR: dataDir,
      SERVICE_ROLE: 'both',
      HOST: LOOPBACK,
      LOG_LEVEL: options.logLevel,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
      WEBHOOK_SECRET: randomBytes(32).toString('hex'),
      // Other instances' events are seen within 50 ms, as in the end-to-end tests.
      SQLITE_POLL_INTERVAL_MS: '50',
      // A standby planner takes over within a second of its holder's death.
      PLANNER_LEASE_MS: '1000',
      // One machine sends everything: the API's own rate limits are not under test here.
      RATE_LIMIT_PER_PRINCIPAL: '0',
      RATE_LIMIT_PER_ADDRESS: '0',
    };
    const instances: ChaosProcess[] = [];
    for (let index = 1; index <= options.instances; index++) {
      const port = await freePort();
      const instance = new ChaosProcess(
        `instance-${index}`,
        port,
        join(distDir, 'src', 'main.js'),
        { ...serviceEnv, PORT: String(port) },
        join(dataDir, `instance-${index}.log`),
        '/health/ready',
      );
      processes.push(instance);
      instances.push(instance);
    }
    // One at a time: the first creates the stores' files, the others open them.
    for (const instance of instances) await instance.start(READY_TIMEOUT_MS);

    const config = AppConfig.fromEnvironment({ ...serviceEnv, PORT: String(instances[0].port) });
    const secret = signingSecret(config);
    if (!secret) throw new Error('no signing secret');
    const customers: Customer[] = [];
    const operator = await issueToken(config, secret, {
      subject: 'chaos-operator',
      roles: ['operator'],
      expiresIn: '12h',
    });
    for (let index = 0; index < options.customers; index++) {
      const owner = `chaos-customer-${index}`;
      const token = await issueToken(config, secret, {
        subject: owner,
        roles: [],
        expiresIn: '12h',
      });
      await fundAccount(instances[0].baseUrl, operator, { owner, currency: 'KES' });
      customers.push({ owner, token });
    }

    const anchor = await readTruth(simulator, agent);
    const timeline = new ProviderTimeline(anchor.reading, options.scale);
    const monkey = new ChaosMonkey(options, instances, violations, signal);
    const client = new PhoneClient(options, instances, customers, agent, violations, signal);
    const paid = await client.payAll((count) => monkey.onStarted(count));
    await monkey.finish();

    // Every instance is up again (finish waits for it), so the audit has projections to wait for.
    const views = await listEverything(instances, customers, agent);
    const end = await readTruth(simulator, agent);
    if (options.keepData) {
      writeFileSync(join(dataDir, 'ground-truth.json'), JSON.stringify(end.truth, null, 1));
      writeFileSync(join(dataDir, 'chaos-actions.log'), monkey.actions.join('\n'));
    }
    const ownerOf = new Map(paid.map((tx) => [tx.clientId, tx.owner]));
    const seen = new Set(views.map((view) => view.id));
    const report = analyseMix({
      views,
      missing: paid.filter((tx) => tx.accepted && !seen.has(tx.clientId)).map((tx) => tx.clientId),
      attemptStarts: new Map(),
      truth: end.truth,
      providerIdOf: (clientId) => transactionIdFor(ownerOf.get(clientId) ?? '', clientId),
      timeline,
      lateAppearanceMaxSeconds: defaultSimulatorOptions.lateAppearanceSeconds.max,
      maxAttempts: REFERENCE_TIMINGS.maxAttempts,
      instancesKilled: true,
      statusBudgetPerSecond: defaultSimulatorOptions.statusBudget?.requestsPerSecond ?? null,
    });
    violations['one charge'].push(...report.invariants.oneCharge.problems);
    violations['truthful final status'].push(...report.invariants.truthfulStatus.problems);
    violations['status budget kept'].push(...report.invariants.budgetKept.problems);
    for (const [caller, totals] of Object.entries(end.truth.callers)) {
      if (totals.bans > 0) violations['status budget kept'].push(`${caller}: ${totals.bans} bans`);
    }
    violations['final or queued'].push(...report.invariants.nothingLost.problems);
    const neverAccepted = paid.filter((tx) => !tx.accepted).map((tx) => tx.clientId);
    if (neverAccepted.length > 0) {
      violations['final or queued'].push(
        `${neverAccepted.length} never accepted: ${neverAccepted.slice(0, 5).join(', ')}`,
      );
    }
    violations['audit verify'].push(...(await auditVerify(distDir, dataDir)));

    const timeToFinal = views.flatMap((view) =>
      view.finalizedAt === null
        ? []
        : [(Date.parse(view.finalizedAt) - Date.parse(view.createdAt)) / 1000],
    );
    const postsAnswered504 = end.truth.transactions.reduce(
      (sum, tx) => sum + tx.submissions.filter((s) => s.responseStatusCode === 504).length,
      0,
    );
    const checks = end.truth.totals.statusChecks;
    return {
      options: shown,
      realSeconds: (performance.now() - started) / 1000,
      dataDir,
      transactions: {
        requested: options.transactions,
        accepted: paid.filter((tx) => tx.accepted).length,
        final: views.filter((view) => view.status !== 'PENDING').length,
        reconciliation: report.reconciliation,
      },
      client: client.counts,
      kills: monkey.kills,
      pauses: monkey.pauses,
      restarts: monkey.restarts,
      provider: {
        outcomes: end.truth.totals.outcomes,
        postsAnswered504,
        webhooksFailed: end.truth.totals.webhookDeliveries.failed,
        statusChecks: checks.received,
        rejected429: checks.rejected,
        bans: checks.bans,
      },
      finalSources: report.finalSources,
      timeToFinalSeconds: distribution(timeToFinal),
      violations,
      pass: INVARIANTS.every((name) => violations[name].length === 0),
    };
  } finally {
    process.off('exit', killEveryone);
    await Promise.all(processes.map((child) => child.stop(2_000)));
    await agent.close();
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The ground truth with the wall-clock moment it describes (the midpoint of the request). */
async function readTruth(simulator: ChaosProcess, agent: Agent) {
  const before = Date.now();
  const response = await request(`${simulator.baseUrl}/_sim/truth`, { dispatcher: agent });
  const truth = (await response.body.json()) as GroundTruth;
  const after = Date.now();
  return {
    truth,
    reading: {
      wallMs: (before + after) / 2,
      providerSeconds: truth.nowSeconds,
      uncertaintyMs: (after - before) / 2,
    },
  };
}

/**
 * Kills and pauses at random moments of the run: each action is due when a drawn number of
 * transactions has started, so a run of any speed gets all of them, spread over its length. At
 * least one instance is up (not killed, not paused) at every moment; the simulator is never
 * touched.
 */
class ChaosMonkey {
  kills = 0;
  pauses = 0;
  restarts = 0;
  /** What was done to which process and when, for a post-mortem (kept with --keep-data). */
  readonly actions: string[] = [];
  private readonly random: Random;
  private readonly due: { at: number; action: 'kill' | 'pause' }[];
  private readonly background: Promise<void>[] = [];
  private released = 0;
  private wake: (() => void) | null = null;
  private readonly loop: Promise<void>;

  constructor(
    private readonly options: ChaosOptions,
    private readonly instances: ChaosProcess[],
    private readonly violations: Record<Invariant, string[]>,
    private readonly signal: AbortSignal,
  ) {
    this.random = randomFor(options.seed, 'monkey');
    const at = () => Math.floor(between(this.random, 0.02, 0.9) * options.transactions);
    this.due = [
      ...Array.from({ length: options.kills }, () => ({ at: at(), action: 'kill' as const })),
      ...Array.from({ length: options.pauses }, () => ({ at: at(), action: 'pause' as const })),
    ].sort((a, b) => a.at - b.at);
    this.loop = this.run();
    // Awaited by finish(); if the run is aborted before, the abort is the error to report.
    this.loop.catch(() => undefined);
  }

  onStarted(count: number): void {
    while (this.released < this.due.length && this.due[this.released].at <= count) {
      this.released += 1;
    }
    this.wake?.();
  }

  /** Waits for every action to be taken and undone: every instance is up again after it. */
  async finish(): Promise<void> {
    this.onStarted(Number.POSITIVE_INFINITY);
    await this.loop;
    await Promise.all(this.background);
  }

  private async run(): Promise<void> {
    for (const [taken, { action }] of this.due.entries()) {
      while (taken >= this.released) {
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
      await this.act(action);
    }
  }

  private async act(action: 'kill' | 'pause'): Promise<void> {
    // A random moment, not the instant a transaction starts.
    await delay(between(this.random, 0, 300), undefined, { signal: this.signal });
    const target = await this.pickTarget();
    this.actions.push(`${new Date().toISOString()} ${action} ${target.name} pid ${target.pid}`);
    let undo: Promise<void>;
    if (action === 'kill') {
      this.kills += 1;
      undo = this.killAndRestart(target);
    } else {
      this.pauses += 1;
      target.pause();
      const pauseMs = between(this.random, 1_000, 4_000);
      undo = delay(pauseMs, undefined, { signal: this.signal }).then(() => target.resume());
    }
    // Awaited by finish(), as the loop is.
    undo.catch(() => undefined);
    this.background.push(undo);
  }

  /** A random instance that is up, while another one stays up to serve. */
  private async pickTarget(): Promise<ChaosProcess> {
    for (;;) {
      const up = this.instances.filter((instance) => instance.state === 'up');
      if (up.length >= 2) return up[Math.floor(this.random.next() * up.length)];
      await delay(50, undefined, { signal: this.signal });
    }
  }

  private async killAndRestart(target: ChaosProcess): Promise<void> {
    await target.kill();
    await delay(between(this.random, 200, 1_000), undefined, { signal: this.signal });
    try {
      await target.start(READY_TIMEOUT_MS);
      this.restarts += 1;
      this.actions.push(`${new Date().toISOString()} restarted ${target.name} pid ${target.pid}`);
    } catch (error) {
      this.violations['instances restart'].push(String(error));
    }
  }
}

/**
 * Phones: each pays one transaction at a time, as a customer's app does on a bad network. It
 * POSTs with the transaction's id; on a network error, a timeout or a 5xx it sends the SAME id
 * and body again after a short back-off (to any instance), and now and then sends the request
 * twice at once. Then it asks for the transaction until it is final or in reconciliation.
 */
class PhoneClient {
  readonly counts = { posts: 0, duplicates: 0, retries: 0, gets: 0, timeouts: 0, errors: 0 };
  private next = 0;

  constructor(
    private readonly options: ChaosOptions,
    private readonly instances: ChaosProcess[],
    private readonly customers: Customer[],
    private readonly agent: Agent,
    private readonly violations: Record<Invariant, string[]>,
    private readonly signal: AbortSignal,
  ) {}

  async payAll(onStarted: (count: number) => void): Promise<PaidTransaction[]> {
    const paid: PaidTransaction[] = [];
    const phone = async () => {
      while (this.next < this.options.transactions) {
        const index = this.next++;
        onStarted(this.next);
        paid.push(await this.pay(index));
      }
    };
    await Promise.all(Array.from({ length: this.options.phones }, phone));
    return paid;
  }

  private async pay(index: number): Promise<PaidTransaction> {
    const random = randomFor(this.options.seed, `transaction-${index}`);
    const customer = this.customers[index % this.customers.length];
    const clientId = `chaos-${index}`;
    const body = JSON.stringify({
      id: clientId,
      amount: 100 + (index % 900),
      currency: 'KES',
      recipient: `+2547${String(index).padStart(8, '0')}`,
    });
    const paid = { clientId, owner: customer.owner, accepted: false, settled: false };
    const giveUpAt =
      Date.now() +
      (REFERENCE_TIMINGS.reconciliationDeadline + GIVE_UP_MARGIN_SECONDS) *
        1000 *
        this.options.scale +
      SLACK_MS;

    for (let round = 0; !paid.accepted; round++) {
      if (Date.now() > giveUpAt) return paid;
      if (round > 0) {
        this.counts.retries += 1;
        await delay(between(random, 50, 500), undefined, { signal: this.signal });
      }
      const copies = random.next() < this.options.duplicateShare ? 2 : 1;
      if (copies === 2) this.counts.duplicates += 1;
      const answers = await Promise.all(
        Array.from({ length: copies }, () =>
          this.send(random, customer, 'POST', '/v1/transactions', body, POST_TIMEOUT_MS),
        ),
      );
      for (const answer of answers) {
        if (answer.kind === 'status' && (answer.status === 202 || answer.status === 200)) {
          paid.accepted = true;
        } else if (answer.kind === 'status' && answer.status < 500 && answer.status !== 429) {
          this.violations['answers as documented'].push(
            `${clientId}: POST answered ${answer.status} ${answer.body.slice(0, 200)}`,
          );
          return paid;
        }
      }
    }

    const path = `/v1/transactions/${clientId}`;
    while (Date.now() < giveUpAt) {
      const answer = await this.send(
        random,
        customer,
        'GET',
        path,
        undefined,
        (WAIT_SECONDS + 3) * 1000,
      );
      if (answer.kind === 'status' && answer.status === 200) {
        const view = JSON.parse(answer.body) as TransactionView;
        if (view.status !== 'PENDING' || view.reconciliation !== null) {
          paid.settled = true;
          return paid;
        }
      } else if (answer.kind === 'network' || answer.status >= 500 || answer.status === 404) {
        // An instance killed or paused mid-request, or one that restarted and has not yet read
        // the request's event: ask again.
        await delay(between(random, 50, 500), undefined, { signal: this.signal });
      } else {
        this.violations['answers as documented'].push(
          `${clientId}: GET answered ${answer.status} ${answer.body.slice(0, 200)}`,
        );
        return paid;
      }
    }
    return paid;
  }

  private async send(
    random: Random,
    customer: Customer,
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<Answer> {
    const instance = this.instances[Math.floor(random.next() * this.instances.length)];
    if (method === 'POST') this.counts.posts += 1;
    else this.counts.gets += 1;
    try {
      const response = await request(`${instance.baseUrl}${path}`, {
        method,
        dispatcher: this.agent,
        headers: {
          authorization: `Bearer ${customer.token}`,
          'content-type': 'application/json',
          ...(method === 'GET' ? { prefer: `wait=${WAIT_SECONDS}` } : {}),
        },
        body,
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]),
      });
      const text = await response.body.text();
      if (response.statusCode === 500) {
        this.violations['no 500'].push(`${method} ${path} on ${instance.name}: ${text}`);
      }
      return { kind: 'status', status: response.statusCode, body: text };
    } catch (error) {
      if (this.signal.aborted) throw error;
      if (error instanceof Error && error.name === 'TimeoutError') this.counts.timeouts += 1;
      else this.counts.errors += 1;
      return { kind: 'network' };
    }
  }
}

/** Every transaction of every customer, from an instance that answers. */
async function listEverything(
  instances: ChaosProcess[],
  customers: Customer[],
  agent: Agent,
): Promise<TransactionView[]> {
  const views: TransactionView[] = [];
  for (const customer of customers) {
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const response = await request(
        `${instances[0].baseUrl}/v1/transactions?limit=${PAGE_SIZE}${query}`,
        { dispatcher: agent, headers: { authorization: `Bearer ${customer.token}` } },
      );
      const text = await response.body.text();
      if (response.statusCode !== 200) {
        throw new Error(`listing ${customer.owner}: ${response.statusCode} ${text.slice(0, 200)}`);
      }
      const page = JSON.parse(text) as { items: TransactionView[]; nextCursor: string | null };
      views.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
  }
  return views;
}

/** `npm run audit -- verify` on the data directory: hash chains, read model = fold, money. */
async function auditVerify(distDir: string, dataDir: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(distDir, 'src', 'audit', 'audit.cli.js'), 'verify'],
      {
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
  });
  if (code === 0) return [];
  const lines = `${stdout}\n${stderr}`.split('\n').filter((line) => line.trim() !== '');
  return [`audit verify exited ${code}`, ...lines.filter((line) => !/^\s*$/.test(line)).slice(-10)];
}
