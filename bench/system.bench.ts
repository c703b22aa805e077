/**
 * The whole system under steady load, with the provider healthy and failing: the service
 * (dist/src/main.js, embedded default, fresh DATA_DIR per mode) and the provider simulator
 * (dist/src/provider-simulator/main.js, real time) run as separate processes; autocannon offers
 * POST /v1/transactions at fixed rates; after each mode the simulator's ground truth is checked.
 * Run with `npm run bench:system -- --help`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import { signingSecret } from '../src/auth/signing-key';
import { issueToken } from '../src/auth/token-issuer';
import { AppConfig } from '../src/config/app-config';
import { maxChecksInAnySecond } from '../src/provider/status-checks/budgeted-status-check';
import { STATUS_CHECK_BUDGET_METRICS } from '../src/provider/status-checks/status-check-budget.gauges';
import type { GroundTruth } from '../src/provider-simulator/ground-truth';
import { SeededRandom } from '../src/shared/random';
import { STORE_FILES } from '../src/sqlite/store-files';
import { transactionIdFor } from '../src/transactions/transaction-id';
import type { TransactionView } from '../src/transactions/transaction.view';
import { fundAccount } from './support/funding';
import { TransactionBodies, runLoad } from './support/load';
import { runPacedLoad } from './support/paced-load';
import {
  environmentWithoutSettings,
  LOOPBACK,
  ManagedChild,
  cpuSeconds,
  freePort,
  startChild,
  stopAllChildren,
  waitUntilReady,
} from './support/processes';
import { formatTable } from './support/provider-mix-stats';

interface ModeSettings {
  about: string;
  sim: Record<string, string> | null;
  service?: Record<string, string>;
}

/**
 * How the simulator (or its absence) behaves in each mode; every other SIM_* is its default.
 * `service`: settings of the service that the mode needs (else the defaults).
 */
const MODES = {
  reference: { about: 'reference mix (simulator defaults)', sim: {} },
  unreachable: { about: 'PROVIDER_URL at a closed port (connection refused)', sim: null },
  'all-504': { about: 'every POST answered 504 after 30 s (SIM_P504=1)', sim: { SIM_P504: '1' } },
  'slow-10s': {
    about: 'every POST answered after 10 s (SIM_RESPONSE_DELAY_MIN/MAX_SECONDS=10)',
    sim: { SIM_RESPONSE_DELAY_MIN_SECONDS: '10', SIM_RESPONSE_DELAY_MAX_SECONDS: '10' },
  },
  // One check per second allowed against our 2, a 5 s ban for the excess: the budget halves at
  // each ban and climbs back with each answered check until it is banned again. Checks come due
  // within a run only if the provider's gateway timeout is short (no check is due before it has
  // passed since the POST: 30 s by default), and start only while the submissions due fit in the
  // worker's free slots (it claims them first, and no check while they fill its slots): POSTs
  // answered within 2 s and 1,000 slots keep up with 100/s, the reference mix and 256 do not.
  '429-storm': {
    about:
      'status budget 1/s, ban 5 s (SIM_STATUS_BUDGET_RPS=1, SIM_BAN_SECONDS=5); 504s after 5 s, ' +
      '200s within 2 s (SIM_TIMEOUT_DELAY_SECONDS=5, SIM_RESPONSE_DELAY_MAX_SECONDS=2, ' +
      'PROVIDER_GATEWAY_TIMEOUT_MS=5000); WORKER_CONCURRENCY=1000',
    sim: {
      SIM_STATUS_BUDGET_RPS: '1',
      SIM_BAN_SECONDS: '5',
      SIM_TIMEOUT_DELAY_SECONDS: '5',
      SIM_RESPONSE_DELAY_MAX_SECONDS: '2',
    },
    service: { PROVIDER_GATEWAY_TIMEOUT_MS: '5000', WORKER_CONCURRENCY: '1000' },
  },
} as const satisfies Record<string, ModeSettings>;
type Mode = keyof typeof MODES;
const MODE_NAMES = Object.keys(MODES) as Mode[];
const HEALTHY: Mode = 'reference';

const USAGE = `Usage: npm run bench:system -- [options]

Starts the provider simulator and the service as separate processes (fresh DATA_DIR per mode),
offers POST /v1/transactions at each rate in turn, and prints per mode and rate: achieved rate,
accept p50/p99, the service's event-loop delay p99, RSS, CPU, store writes per second by kind,
the backlog of due work, and each figure's ratio to the healthy (reference) mode. After each
mode it checks the simulator's ground truth: no id POSTed twice unless the earlier POST was
lost, and every accepted transaction listed (final, pending or in reconciliation).

  --modes <list>      ${MODE_NAMES.join(', ')}
                                                  (default all; ${HEALTHY} always runs first)
  --rates <list>      offered requests per second  (default 250,500,1000)
  --duration <s>      measured seconds per rate    (default 10)
  --loader <name>     paced: requests evenly spaced at the rate, latency counted from each
                      request's due time (default); autocannon: its overallRate, where each
                      connection sends its share of a second in a burst when its timer fires
  --connections <n>   connections: autocannon's, or the most the paced loader opens
                                                  (default 50 for autocannon, 1000 for paced)
  --role <role>       SERVICE_ROLE: both or api    (default both)
  --settle <s>        seconds after the last rate before the truth check (default 5)
  --seed <n>          the simulator's seed         (default 17)
  --memory-every <s>  during each rate, print the service's RSS, heap and external memory
                      every s seconds (default 0: only at the end of each rate)
  --profile           run the service with --cpu-prof into bench/results/profiles/
  --keep-data         keep each mode's DATA_DIR
`;

const READY_TIMEOUT_MS = 60_000;
/** A request unanswered this long counts as an error (autocannon's default timeout). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Longer than the service's own SHUTDOWN_TIMEOUT_MS (10 s), so it gets to finish on its own. */
const STOP_GRACE_MS = 15_000;
const OWNER = 'bench-system';
/** A service too stalled to list its transactions in this time is reported, not waited for. */
const TRUTH_DEADLINE_MS = 90_000;
const PAGE_SIZE = 100;
/** prom-client's event-loop monitor ticks every 10 ms and counts the tick in each delay. */
const LOOP_RESOLUTION_SECONDS = 0.01;
const repoRoot = resolve(__dirname, '..', '..');
/**
 * Our own pool, idle sockets closed after 1 s: the service closes them after 5 s (Node's
 * keep-alive default), and a request sent on a socket it is closing just then fails ECONNRESET.
 */
const http = new Agent({
  keepAliveTimeout: 1_000,
  keepAliveMaxTimeout: 1_000,
  // A service whose event loop is stalled is a finding to print, not a reason to hang the bench.
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
});

interface Options {
  modes: Mode[];
  rates: number[];
  durationSeconds: number;
  loader: 'paced' | 'autocannon';
  connections: number;
  role: 'both' | 'api';
  settleSeconds: number;
  seed: number;
  memoryEverySeconds: number;
  profile: boolean;
  keepData: boolean;
}

class UsageError extends Error {}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      modes: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      loader: { type: 'string' },
      connections: { type: 'string' },
      role: { type: 'string' },
      settle: { type: 'string' },
      seed: { type: 'string' },
      'memory-every': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'keep-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const whole = (name: string, text: string | undefined, fallback: number, min: number) => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(value) || value < min) {
      throw new UsageError(`--${name}: a whole number, ${min} or more (got "${text}")`);
    }
    return value;
  };
  const modes = (values.modes?.split(',') ?? MODE_NAMES).map((name) => name.trim());
  for (const mode of modes) {
    if (!MODE_NAMES.some((known) => known === mode)) {
      throw new UsageError(`--modes: unknown mode "${mode}"`);
    }
  }
  // The healthy run is what every other mode is compared with.
  const ordered = [HEALTHY, ...modes.filter((mode) => mode !== HEALTHY)] as Mode[];
  const rates = (values.rates ?? '250,500,1000')
    .split(',')
    .map((text) => whole('rates', text.trim(), 0, 1));
  const role = values.role ?? 'both';
  if (role !== 'both' && role !== 'api') throw new UsageError('--role: both or api');
  const loader = values.loader ?? 'paced';
  if (loader !== 'paced' && loader !== 'autocannon') {
    throw new UsageError('--loader: paced or autocannon');
  }
  return {
    modes: ordered,
    rates,
    durationSeconds: whole('duration', values.duration, 10, 1),
    loader,
    connections: whole('connections', values.connections, loader === 'paced' ? 1000 : 50, 1),
    role,
    settleSeconds: whole('settle', values.settle, 5, 0),
    seed: whole('seed', values.seed, 17, 0),
    memoryEverySeconds: whole('memory-every', values['memory-every'], 0, 0),
    profile: values.profile,
    keepData: values['keep-data'],
  };
}

/** What one rate's load saw, whichever loader offered it. */
interface LoadSeen {
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  statusCounts: Record<string, number>;
  /** The paced loader's own lateness (p99, ms); null for autocannon, which does not say. */
  sendLateP99Ms: number | null;
}

async function offerLoad(
  options: Options,
  target: {
    url: string;
    path: string;
    headers: Record<string, string>;
    rate: number;
    bodies: TransactionBodies;
  },
): Promise<LoadSeen> {
  if (options.loader === 'paced') {
    const seen = await runPacedLoad({
      ...target,
      durationSeconds: options.durationSeconds,
      maxConnections: options.connections,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    return {
      p50Ms: seen.latency.p50,
      p99Ms: seen.latency.p99,
      non2xx: seen.non2xx,
      errors: seen.errors,
      statusCounts: seen.statusCounts,
      sendLateP99Ms: seen.sendLateP99Ms,
    };
  }
  const { result, statusCounts } = await runLoad({
    ...target,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    overallRate: target.rate,
  });
  return {
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCounts,
    sendLateP99Ms: null,
  };
}

// ---------------------------------------------------------------------------------------------
// What the service shows from outside: /metrics, /proc, and its store files (read-only).

/** `name{labels} value` lines of the Prometheus text format, keyed by name and labels. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match) values.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return values;
}

/** The service's metrics, or none (said on stderr) when it did not answer in time. */
async function scrape(baseUrl: string): Promise<Map<string, number>> {
  try {
    const response = await request(`${baseUrl}/metrics`, { dispatcher: http });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}`);
    return parseMetrics(text);
  } catch (error) {
    console.warn(`WARNING: no /metrics from the service: ${String(error)}`);
    return new Map();
  }
}

/** Resident set size of a process in bytes (Linux /proc), if readable. */
function rssBytes(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

interface StoreCounters {
  /** Events appended so far, by type. */
  eventsByType: Map<string, number>;
  /** Writes to the work store so far: every write takes a version from one store-wide counter. */
  workWrites: number | null;
  /** Work rows due now and not parked, by kind (from the file: the same as ledger_work_due). */
  dueByKind: Map<string, number> | null;
}

/**
 * Reads the embedded stores' files read-only (WAL readers never block the service's writer).
 * The work store's schema belongs to the process manager: a query it no longer answers gives
 * null rather than failing the run.
 */
class StoreReader {
  private readonly events: Database.Database;
  private readonly work: Database.Database;

  constructor(dataDir: string) {
    this.events = new Database(join(dataDir, STORE_FILES.events), { readonly: true });
    this.work = new Database(join(dataDir, STORE_FILES.work), { readonly: true });
  }

  read(now: number): StoreCounters {
    const eventsByType = new Map(
      this.events
        .prepare('SELECT type, COUNT(*) AS n FROM events GROUP BY type')
        .all()
        .map((row) => {
          const { type, n } = row as { type: string; n: number };
          return [type, n] as const;
        }),
    );
    return {
      eventsByType,
      workWrites: this.optional(
        () => (this.work.prepare('SELECT last FROM work_version').get() as { last: number }).last,
      ),
      dueByKind: this.optional(
        () =>
          new Map(
            this.work
              .prepare(
                'SELECT kind, COUNT(*) AS n FROM work WHERE due_at <= ? AND parked_at IS NULL GROUP BY kind',
              )
              .all(now)
              .map((row) => {
                const { kind, n } = row as { kind: string; n: number };
                return [kind, n] as const;
              }),
          ),
      ),
    };
  }

  /** The status-check budget's row (its adapter's schema, in work.sqlite); null before any check. */
  budget(): { rate: number; blockedUntil: number } | null {
    return this.optional(
      () =>
        (this.work.prepare('SELECT rate, blocked_until AS blockedUntil FROM budget').get() as
          { rate: number; blockedUntil: number } | undefined) ?? null,
    );
  }

  close(): void {
    this.events.close();
    this.work.close();
  }

  private optional<T>(query: () => T): T | null {
    try {
      return query();
    } catch {
      return null;
    }
  }
}

/** The backlog as /metrics shows it (ledger_work_due{kind}), when the service exports it. */
function dueFromMetrics(metrics: Map<string, number>): Map<string, number> | null {
  const due = new Map<string, number>();
  for (const [key, value] of metrics) {
    const kind = /^ledger_work_due\{.*kind="([^"]+)".*\}$/.exec(key)?.[1];
    if (kind !== undefined) due.set(kind, value);
  }
  return due.size > 0 ? due : null;
}

// ---------------------------------------------------------------------------------------------
// One mode: simulator + service, each rate in turn, then the ground truth.

interface RateResult {
  mode: Mode;
  offered: number;
  achieved: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  loopP99Ms: number | null;
  rssMb: number | null;
  heapUsedMb: number | null;
  cpuShare: number | null;
  eventsPerSecond: Map<string, number>;
  workWritesPerSecond: number | null;
  dueByKind: Map<string, number> | null;
  dueSource: 'metrics' | 'work.sqlite' | null;
  budget: BudgetFigures;
}

/** The shared status-check budget during one rate, and the checks the provider saw then. */
interface BudgetFigures {
  /** From /metrics at the end of the rate (ledger_status_check_budget_*). */
  rateAtEnd: number | null;
  blockedAtEnd: boolean | null;
  /** Sampled from work.sqlite every second (no scrape: a scrape resets the loop's histogram). */
  lowestRate: number | null;
  blockedSeconds: number;
  sampledSeconds: number;
  /** From the simulator's ground truth, over this rate; null without a simulator. */
  checks: { received: number; rejected: number; bans: number } | null;
}

/** Samples the budget's row every second; `stop` returns what it saw. */
function sampleBudget(
  stores: StoreReader,
): () => Omit<BudgetFigures, 'rateAtEnd' | 'blockedAtEnd' | 'checks'> {
  let lowestRate: number | null = null;
  let blockedSeconds = 0;
  let sampledSeconds = 0;
  const timer = setInterval(() => {
    const row = stores.budget();
    sampledSeconds += 1;
    if (row === null) return;
    lowestRate = Math.min(lowestRate ?? Infinity, row.rate);
    if (row.blockedUntil > Date.now()) blockedSeconds += 1;
  }, 1_000);
  return () => {
    clearInterval(timer);
    return { lowestRate, blockedSeconds, sampledSeconds };
  };
}

type CheckTotals = GroundTruth['totals']['statusChecks'];

async function checkTotals(simulatorUrl: string | null): Promise<CheckTotals | null> {
  if (simulatorUrl === null) return null;
  return (await getJson<GroundTruth>(`${simulatorUrl}/_sim/truth`)).totals.statusChecks;
}

interface TruthCheck {
  accepted: number;
  listed: number;
  byState: Record<string, number>;
  providerPosts: number | null;
  /** Status checks the provider received, how many it answered 429, and the most in a second. */
  statusChecks: CheckTotals | null;
  /** The most checks in any second our budget allows (maxChecksInAnySecond of its rate). */
  checksAllowedInAnySecond: number;
  neverPosted: number | null;
  doubleSubmitted: string[];
  lost: number;
  /** Why the check could not be made (the service did not answer the list in time). */
  unchecked?: string;
}

function serviceEnvironment(
  dataDir: string,
  port: number,
  providerUrl: string,
  role: Options['role'],
  mode: Mode,
): NodeJS.ProcessEnv {
  // Every setting the config reads is decided here: a developer's shell cannot change the run.
  const inherited = environmentWithoutSettings();
  const { service }: ModeSettings = MODES[mode];
  return {
    ...inherited,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: LOOPBACK,
    LOG_LEVEL: 'warn',
    SERVICE_ROLE: role,
    PROVIDER_URL: providerUrl,
    // One customer sends everything: limits it never reaches, so only their bookkeeping counts.
    RATE_LIMIT_PER_PRINCIPAL: '10000000',
    RATE_LIMIT_PER_ADDRESS: '10000000',
    ...service,
  };
}

function simulatorEnvironment(port: number, seed: number, mode: Mode): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('SIM_')),
  );
  return {
    ...inherited,
    SIM_PORT: String(port),
    SIM_HOST: LOOPBACK,
    SIM_LOG_LEVEL: 'warn',
    SIM_SEED: String(seed),
    ...MODES[mode].sim,
  };
}

async function getJson<T>(url: string, token?: string): Promise<T> {
  const response = await request(url, {
    dispatcher: http,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    throw new Error(`GET ${url} answered ${response.statusCode}: ${text.slice(0, 200)}`);
  }
  return JSON.parse(text) as T;
}

async function listAll(baseUrl: string, token: string): Promise<TransactionView[]> {
  const views: TransactionView[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page: { items: TransactionView[]; nextCursor: string | null } = await getJson(
      `${baseUrl}/v1/transactions?limit=${PAGE_SIZE}${query}`,
      token,
    );
    views.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return views;
}

/** Final, pending, or pending and handed to reconciliation. */
function stateOf(view: TransactionView): string {
  if (view.status !== 'PENDING') return view.status.toLowerCase();
  return view.reconciliation === null ? 'pending' : 'in reconciliation';
}

/**
 * Joins our list with the provider's record. A second POST of one id is a double charge unless
 * the POST before it was lost (never processed): that is the only retry our rule allows.
 */
async function checkTruth(
  baseUrl: string,
  token: string,
  simulatorUrl: string | null,
  accepted: number,
  checksAllowedInAnySecond: number,
): Promise<TruthCheck> {
  // The list is a projection: give it a moment to show every accepted transaction.
  let views = await listAll(baseUrl, token);
  for (let i = 0; i < 20 && views.length < accepted; i++) {
    await delay(500);
    views = await listAll(baseUrl, token);
  }
  const byState: Record<string, number> = {};
  for (const view of views) byState[stateOf(view)] = (byState[stateOf(view)] ?? 0) + 1;
  const check: TruthCheck = {
    accepted,
    listed: views.length,
    byState,
    providerPosts: null,
    statusChecks: null,
    checksAllowedInAnySecond,
    neverPosted: null,
    doubleSubmitted: [],
    lost: Math.max(0, accepted - views.length),
  };
  if (simulatorUrl === null) return check;
  const truth = await getJson<GroundTruth>(`${simulatorUrl}/_sim/truth`);
  const atProvider = new Map(truth.transactions.map((tx) => [tx.id, tx]));
  check.providerPosts = truth.totals.submissions;
  check.statusChecks = truth.totals.statusChecks;
  check.neverPosted = views.filter(
    (view) => !atProvider.has(transactionIdFor(OWNER, view.id)),
  ).length;
  for (const tx of truth.transactions) {
    for (let i = 1; i < tx.submissions.length; i++) {
      if (tx.submissions[i - 1].outcome.kind !== 'lost') check.doubleSubmitted.push(tx.id);
    }
  }
  return check;
}

/** One line of the service's memory; the scrape covers the event loop since the previous one. */
async function sampleMemory(baseUrl: string, pid: number, atSeconds: number): Promise<void> {
  try {
    const metrics = await scrape(baseUrl);
    const mb = (bytes: number | null | undefined) =>
      bytes === null || bytes === undefined ? 'n/a' : (bytes / 2 ** 20).toFixed(0);
    console.log(
      `    t=${atSeconds.toFixed(0)} s: RSS ${mb(rssBytes(pid))} MB, heap used ` +
        `${mb(metrics.get('nodejs_heap_size_used_bytes'))} MB, external ` +
        `${mb(metrics.get('nodejs_external_memory_bytes'))} MB`,
    );
  } catch (error) {
    console.log(`    t=${atSeconds.toFixed(0)} s: no sample (${String(error)})`);
  }
}

const perSecond = (before: number, after: number, seconds: number) => (after - before) / seconds;

async function runMode(
  mode: Mode,
  options: Options,
  profileDir: string,
): Promise<{ rates: RateResult[]; truth: TruthCheck }> {
  const dataDir = mkdtempSync(join(tmpdir(), `ledger-system-${mode}-`));
  if (options.profile) mkdirSync(join(profileDir, mode), { recursive: true });
  const children: ManagedChild[] = [];
  let stores: StoreReader | null = null;
  try {
    let simulatorUrl: string | null = null;
    let providerUrl: string;
    if (MODES[mode].sim === null) {
      // Nobody listens on a port the kernel just handed out and took back: connection refused.
      providerUrl = `http://${LOOPBACK}:${await freePort()}`;
    } else {
      const simPort = await freePort();
      simulatorUrl = `http://${LOOPBACK}:${simPort}`;
      providerUrl = simulatorUrl;
      const simulator = startChild({
        name: 'simulator',
        script: join(repoRoot, 'dist', 'src', 'provider-simulator', 'main.js'),
        cwd: repoRoot,
        env: simulatorEnvironment(simPort, options.seed, mode),
      });
      children.push(simulator);
      await waitUntilReady(simulator, `${simulatorUrl}/_sim/truth`, READY_TIMEOUT_MS);
    }

    const port = await freePort();
    const env = serviceEnvironment(dataDir, port, providerUrl, options.role, mode);
    // Same config and DATA_DIR as the service: this creates the secret it will verify with.
    const config = AppConfig.fromEnvironment(env);
    const checksAllowedInAnySecond = maxChecksInAnySecond(
      config.provider.statusChecks.ratePerSecond,
    );
    const secret = signingSecret(config);
    if (!secret) throw new Error('no signing secret for the bench token');
    const token = await issueToken(config, secret, { subject: OWNER, roles: [], expiresIn: '2h' });
    const operatorToken = await issueToken(config, secret, {
      subject: 'bench-operator',
      roles: ['operator'],
      expiresIn: '2h',
    });
    const baseUrl = `http://${LOOPBACK}:${port}`;
    const service = startChild({
      name: 'service',
      script: join(repoRoot, 'dist', 'src', 'main.js'),
      cwd: repoRoot,
      env,
      nodeArgs: options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, mode)}`] : [],
    });
    children.unshift(service);
    await waitUntilReady(service, `${baseUrl}/health/ready`, READY_TIMEOUT_MS);
    await fundAccount(baseUrl, operatorToken, { owner: OWNER, currency: 'KES' });
    stores = new StoreReader(dataDir);

    const random = new SeededRandom(options.seed);
    const results: RateResult[] = [];
    let accepted = 0;
    for (const rate of options.rates) {
      // Scraping resets prom-client's event-loop histogram: the next scrape covers this run.
      await scrape(baseUrl);
      const before = stores.read(Date.now());
      const checksBefore = await checkTotals(simulatorUrl);
      const stopBudgetSampler = sampleBudget(stores);
      const cpuBefore = cpuSeconds(service.pid);
      const startedAt = performance.now();
      const sampler =
        options.memoryEverySeconds > 0
          ? setInterval(() => {
              void sampleMemory(baseUrl, service.pid, (performance.now() - startedAt) / 1000);
            }, options.memoryEverySeconds * 1000)
          : undefined;
      const outcome = await offerLoad(options, {
        url: baseUrl,
        path: '/v1/transactions',
        headers: { authorization: `Bearer ${token}` },
        rate,
        // Unique ids only: every accepted request is a transaction the provider must see once.
        bodies: new TransactionBodies(`${mode}-${rate}`, 0, options.connections, random),
      });
      clearInterval(sampler);
      const budgetSamples = stopBudgetSampler();
      const seconds = (performance.now() - startedAt) / 1000;
      const cpuAfter = cpuSeconds(service.pid);
      const metrics = await scrape(baseUrl);
      const after = stores.read(Date.now());
      const checksAfter = await checkTotals(simulatorUrl);
      const answered202 = outcome.statusCounts['202'] ?? 0;
      accepted += answered202;
      const loopP99 = metrics.get('nodejs_eventloop_lag_p99_seconds');
      const heapUsed = metrics.get('nodejs_heap_size_used_bytes');
      const rss = rssBytes(service.pid);
      const metricDue = dueFromMetrics(metrics);
      const eventsPerSecond = new Map(
        [...after.eventsByType].map(([type, n]) => [
          type,
          perSecond(before.eventsByType.get(type) ?? 0, n, seconds),
        ]),
      );
      results.push({
        mode,
        offered: rate,
        achieved: answered202 / seconds,
        p50Ms: outcome.p50Ms,
        p99Ms: outcome.p99Ms,
        non2xx: outcome.non2xx,
        errors: outcome.errors,
        loopP99Ms:
          loopP99 === undefined ? null : Math.max(0, loopP99 - LOOP_RESOLUTION_SECONDS) * 1000,
        rssMb: rss === null ? null : rss / 2 ** 20,
        heapUsedMb: heapUsed === undefined ? null : heapUsed / 2 ** 20,
        cpuShare:
          cpuBefore === undefined || cpuAfter === undefined
            ? null
            : (cpuAfter - cpuBefore) / seconds,
        eventsPerSecond,
        workWritesPerSecond:
          before.workWrites === null || after.workWrites === null
            ? null
            : perSecond(before.workWrites, after.workWrites, seconds),
        dueByKind: metricDue ?? after.dueByKind,
        dueSource: metricDue ? 'metrics' : after.dueByKind ? 'work.sqlite' : null,
        budget: {
          rateAtEnd: metrics.get(STATUS_CHECK_BUDGET_METRICS.rate) ?? null,
          blockedAtEnd: metrics.has(STATUS_CHECK_BUDGET_METRICS.blocked)
            ? metrics.get(STATUS_CHECK_BUDGET_METRICS.blocked) === 1
            : null,
          ...budgetSamples,
          checks:
            checksBefore && checksAfter
              ? {
                  received: checksAfter.received - checksBefore.received,
                  rejected: checksAfter.rejected - checksBefore.rejected,
                  bans: checksAfter.bans - checksBefore.bans,
                }
              : null,
        },
      });
      console.log(
        `  ${mode} @ ${rate}/s: ${(answered202 / seconds).toFixed(0)}/s accepted, ` +
          `p50 ${outcome.p50Ms} ms, p99 ${outcome.p99Ms} ms, ` +
          `non-2xx ${outcome.non2xx}, errors ${outcome.errors}` +
          (outcome.sendLateP99Ms === null ? '' : `, loader late p99 ${outcome.sendLateP99Ms} ms`),
      );
    }
    await delay(options.settleSeconds * 1000);
    const truth = await Promise.race([
      checkTruth(baseUrl, token, simulatorUrl, accepted, checksAllowedInAnySecond),
      delay(TRUTH_DEADLINE_MS).then(() => {
        throw new Error(`no complete list within ${TRUTH_DEADLINE_MS / 1000} s`);
      }),
    ]).catch((error: unknown): TruthCheck => ({
      accepted,
      listed: 0,
      byState: {},
      providerPosts: null,
      statusChecks: null,
      checksAllowedInAnySecond,
      neverPosted: null,
      doubleSubmitted: [],
      lost: 0,
      unchecked: `the check did not complete: ${String(error)}`,
    }));
    return { rates: results, truth };
  } finally {
    stores?.close();
    // The service first: its in-flight provider calls end before the simulator goes away.
    for (const child of children) {
      const stopped = await child.stop(STOP_GRACE_MS);
      if (stopped.killed || stopped.code !== 0) {
        console.warn(
          `WARNING: ${child.name} (${mode}) did not stop cleanly: code ${stopped.code}, ` +
            `signal ${stopped.signal}, killed ${stopped.killed}`,
        );
      }
    }
    if (options.keepData) console.log(`kept ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Printing

const fixed = (value: number | null, digits = 0) =>
  value === null ? 'n/a' : value.toFixed(digits);
const ratio = (value: number | null, healthy: number | null | undefined) =>
  value === null || !healthy ? 'n/a' : (value / healthy).toFixed(2);

/** The few biggest figures of a map, as `name n`: the table stays readable. */
function topOf(figures: Map<string, number> | null, count: number, digits = 0): string {
  if (figures === null) return 'n/a';
  const shown = [...figures].filter(([, n]) => n > 0).sort(([, a], [, b]) => b - a);
  if (shown.length === 0) return '0';
  const text = shown.slice(0, count).map(([name, n]) => `${name} ${n.toFixed(digits)}`);
  return shown.length > count ? `${text.join(', ')}, ...` : text.join(', ');
}

function sum(figures: Map<string, number> | null): number | null {
  return figures === null ? null : [...figures.values()].reduce((a, b) => a + b, 0);
}

function printResults(all: RateResult[]): void {
  const healthyAt = (rate: number) => all.find((r) => r.mode === HEALTHY && r.offered === rate);
  console.log(
    formatTable([
      [
        'mode',
        'offered/s',
        'accepted/s',
        'x healthy',
        'p50 ms',
        'p99 ms',
        'p99 x healthy',
        'loop p99 ms',
        'RSS MB',
        'heap MB',
        'CPU',
        'CPU µs/req',
        'events/s',
        'work writes/s',
        'due work',
      ],
      ...all.map((r) => {
        const healthy = healthyAt(r.offered);
        return [
          r.mode,
          String(r.offered),
          fixed(r.achieved),
          ratio(r.achieved, healthy?.achieved),
          fixed(r.p50Ms),
          fixed(r.p99Ms),
          ratio(r.p99Ms, healthy?.p99Ms),
          fixed(r.loopP99Ms, 1),
          fixed(r.rssMb),
          fixed(r.heapUsedMb),
          r.cpuShare === null ? 'n/a' : `${Math.round(r.cpuShare * 100)}%`,
          // Steadier than rates when other work shares the machine.
          r.cpuShare === null ? 'n/a' : fixed((r.cpuShare * 1e6) / Math.max(r.achieved, 1)),
          fixed(sum(r.eventsPerSecond)),
          fixed(r.workWritesPerSecond),
          fixed(sum(r.dueByKind)),
        ];
      }),
    ]),
  );
  console.log(
    '\nStatus-check budget (rate in force and ban at the end, from /metrics; lowest rate and ' +
      'seconds banned, sampled each second; checks the provider saw during the rate)',
  );
  for (const r of all) {
    const b = r.budget;
    const checks = b.checks
      ? `${b.checks.received} checks, ${b.checks.rejected} answered 429, ${b.checks.bans} bans`
      : 'no provider to ask';
    console.log(
      `  ${r.mode} @ ${r.offered}: rate ${fixed(b.rateAtEnd, 2)} checks/s ` +
        `(lowest ${b.lowestRate === null ? 'n/a: no check taken yet' : fixed(b.lowestRate, 2)}), ` +
        `${b.blockedAtEnd === null ? 'ban n/a' : b.blockedAtEnd ? 'banned' : 'not banned'} at the end, ` +
        `banned ${b.blockedSeconds} of ${b.sampledSeconds} s; ${checks}`,
    );
  }
  console.log('\nBy kind (events appended per second by type; due work by kind)');
  for (const r of all) {
    console.log(
      `  ${r.mode} @ ${r.offered}: events ${topOf(r.eventsPerSecond, 4)}; ` +
        `due ${topOf(r.dueByKind, 4)}${r.dueSource ? ` (from ${r.dueSource})` : ''}`,
    );
  }
}

interface Verdict {
  name: string;
  pass: boolean;
  detail: string;
}

function goals(all: RateResult[], truths: Map<Mode, TruthCheck>): Verdict[] {
  const verdicts: Verdict[] = [];
  const healthy = all.filter((r) => r.mode === HEALTHY);
  const healthyMax = Math.max(...healthy.map((r) => r.achieved));
  for (const r of all.filter((result) => result.mode !== HEALTHY)) {
    const base = healthy.find((h) => h.offered === r.offered);
    // Point 2 applies to rates up to what the healthy system reached.
    if (!base || r.offered > healthyMax * 1.05) continue;
    const throughput = r.achieved / base.achieved;
    const p99 = r.p99Ms / Math.max(base.p99Ms, 1);
    verdicts.push({
      name: `accept independent of provider: ${r.mode} @ ${r.offered}/s`,
      pass: throughput >= 0.9 && p99 <= 1.2,
      detail: `throughput ${throughput.toFixed(2)} x healthy (>= 0.9), p99 ${p99.toFixed(2)} x healthy (<= 1.2)`,
    });
  }
  const light = healthy.find((r) => r.offered === 250);
  if (light) {
    verdicts.push({
      name: 'light load fast in one process: reference @ 250/s',
      pass: light.p50Ms <= 5 && light.p99Ms <= 20,
      detail: `p50 ${light.p50Ms} ms (<= 5), p99 ${light.p99Ms} ms (<= 20)`,
    });
  }
  for (const [mode, truth] of truths) {
    if (truth.unchecked !== undefined) {
      verdicts.push({
        name: `one charge, nothing lost: ${mode}`,
        pass: false,
        detail: truth.unchecked,
      });
      continue;
    }
    verdicts.push({
      name: `one charge: ${mode}`,
      pass: truth.doubleSubmitted.length === 0,
      detail:
        truth.providerPosts === null
          ? 'no provider reachable: nothing could be POSTed'
          : `${truth.providerPosts} POSTs, ${truth.statusChecks?.received ?? 0} status checks ` +
            `(${truth.statusChecks?.rejected ?? 0} answered 429); ids POSTed again after a POST that was not lost: ` +
            `${truth.doubleSubmitted.length}${truth.doubleSubmitted.length > 0 ? ` (${truth.doubleSubmitted.slice(0, 3).join(', ')})` : ''}`,
    });
    if (truth.statusChecks !== null) {
      const most = truth.statusChecks.maxInAnySecond;
      verdicts.push({
        name: `status-check budget kept: ${mode}`,
        pass: most <= truth.checksAllowedInAnySecond,
        detail: `at most ${most} checks reached the provider in any second (the budget allows ${truth.checksAllowedInAnySecond})`,
      });
    }
    const states = Object.entries(truth.byState)
      .map(([state, n]) => `${state} ${n}`)
      .join(', ');
    verdicts.push({
      name: `nothing lost: ${mode}`,
      pass: truth.lost === 0,
      detail:
        // autocannon does not count the requests in flight when it stops (the paced loader waits
        // for them), so with it the list may hold up to one more per connection.
        `${truth.listed} listed for ${truth.accepted} answered 202 (${states})` +
        (truth.neverPosted === null ? '' : `; not yet POSTed: ${truth.neverPosted}`),
    });
  }
  return verdicts;
}

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`interrupted (${signal}); stopping the service and the simulator`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileDir = join(repoRoot, 'bench', 'results', 'profiles', `system-${stamp}`);
  console.log(
    `system bench: SERVICE_ROLE=${options.role}, rates ${options.rates.join('/')} req/s, ` +
      `${options.durationSeconds} s each, ${options.loader} loader, ` +
      `${options.loader === 'paced' ? 'at most ' : ''}${options.connections} connections; ` +
      `load before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  const all: RateResult[] = [];
  const truths = new Map<Mode, TruthCheck>();
  for (const mode of options.modes) {
    console.log(`\n${mode}: ${MODES[mode].about}`);
    const { rates, truth } = await runMode(mode, options, profileDir);
    all.push(...rates);
    truths.set(mode, truth);
  }
  console.log(
    `\nload after: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
  );
  printResults(all);
  console.log('\nGoals and promises');
  const verdicts = goals(all, truths);
  for (const verdict of verdicts) {
    console.log(`  ${verdict.pass ? 'PASS' : 'FAIL'} ${verdict.name}: ${verdict.detail}`);
  }
  if (options.profile) console.log(`profiles: ${profileDir}`);
  const promisesKept = verdicts
    .filter((v) => /^(one charge|nothing lost|status-check budget kept)/.test(v.name))
    .every((v) => v.pass);
  console.log(
    JSON.stringify({
      bench: 'system',
      role: options.role,
      durationSeconds: options.durationSeconds,
      results: all.map((r) => ({
        ...r,
        eventsPerSecond: Object.fromEntries(r.eventsPerSecond),
        dueByKind: r.dueByKind && Object.fromEntries(r.dueByKind),
      })),
      truth: Object.fromEntries(truths),
      promisesKept,
    }),
  );
  await http.close();
  // Goals missed are findings to report; a broken promise fails the run.
  return promisesKept ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error('system bench crashed:', error);
    await stopAllChildren();
    process.exit(1);
  },
);
