import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { signingSecret } from '../src/auth/signing-key';
import { issueToken } from '../src/auth/token-issuer';
import { AppConfig } from '../src/config/app-config';
import { SeededRandom } from '../src/shared/random';
import { fundAccount } from './support/funding';
import { LoadOutcome, TransactionBodies, runLoad } from './support/load';
import {
  environmentWithoutSettings,
  ExitInfo,
  LOOPBACK,
  ManagedChild,
  allowedCpus,
  backgroundBusy,
  busyShare,
  coreTimes,
  cpuSeconds,
  freePort,
  pinSelf,
  stopAllChildren,
  startChild,
  waitUntilReady,
} from './support/processes';

const USAGE = `Usage: npm run bench:accept -- [options]

Measures POST /v1/transactions on the real service (durable accept, bearer auth, idempotent
retries) against a bare NestJS ceiling with the same DTO and ValidationPipe, and prints the ratio.

  --duration <s>      measured seconds per target       (BENCH_DURATION, default 10)
  --warmup <s>        warm-up seconds per target        (BENCH_WARMUP, default 3)
  --connections <n>   concurrent connections            (BENCH_CONNECTIONS, default 50)
  --duplicates <0-1>  share of requests that retry an earlier id (BENCH_DUPLICATES, default 0.1)
  --seed <n>          seed of the unique/retry mix      (BENCH_SEED, default 1)
  --only <target>     baseline | service | both         (BENCH_ONLY, default both)
  --role <role>       SERVICE_ROLE of the measured service: api (the accept path; the process
                      manager would run in another instance) or both (BENCH_ROLE, default api)
  --cpus <mode>       pinned: each server on CPU 0, autocannon on CPU 1 (the default: steadiest
                      numbers); shared: nothing pinned, servers and autocannon share every core,
                      as in a deployment, so the service's SQLite writer threads can use a second
                      core (BENCH_CPUS)
  --data-parent <dir> where the fresh DATA_DIR is made  (BENCH_DATA_PARENT, default the OS temp dir)
  --profile           run the servers with --cpu-prof into bench/results/profiles/
  --keep-data         keep the service's DATA_DIR afterwards
  --no-save           do not write bench/results/accept-<time>.json
`;

/** The goal for service / baseline requests per second. */
const RATIO_GOAL = 0.6;
const SERVER_CORE = 0;
const LOADER_CORE = 1;
const READY_TIMEOUT_MS = 60_000;
/** Longer than the service's own SHUTDOWN_TIMEOUT_MS (10 s), so it gets to finish on its own. */
const STOP_GRACE_MS = 15_000;
/** The customer whose token makes every measured payment. */
const BENCH_CLIENT = 'bench-client';

type Target = 'baseline' | 'service';

interface Options {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  duplicateShare: number;
  seed: number;
  targets: Target[];
  dataParent: string;
  profile: boolean;
  keepData: boolean;
  save: boolean;
  /** `api`: the accept path alone (the process manager runs elsewhere); `both`: one process. */
  role: 'api' | 'both';
  cpus: 'pinned' | 'shared';
}

interface TargetResult {
  target: Target;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  answered2xx: number;
  statusCounts: Record<string, number>;
  retriesBuilt: number;
  replayed: number;
  /** Share of one core the server used while measured (1 = the whole core). */
  serverCpu: number | null;
  /**
   * Server CPU time per answered request, in microseconds: steadier than requests/s when other
   * work shares the machine, and the number to drive down.
   */
  cpuMicrosPerRequest: number | null;
  /** Share of the server's core busy with anything (server, kernel networking, other tasks). */
  serverCoreBusy: number | null;
  /** Share of one core this process (autocannon) used: near 1 means the loader limited the run. */
  loaderCpu: number;
  readyMs: number;
  stopped: ExitInfo & { killed: boolean };
}

/** Paths are relative to the compiled file (dist/bench/accept.bench.js), not the caller's cwd. */
const repoRoot = resolve(__dirname, '..', '..');
const resultsDir = join(repoRoot, 'bench', 'results');

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      duplicates: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      'data-parent': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'keep-data': { type: 'boolean', default: false },
      'no-save': { type: 'boolean', default: false },
      role: { type: 'string' },
      cpus: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const env = process.env;
  const number = (
    name: string,
    text: string | undefined,
    fallback: number,
    ok: (n: number) => boolean,
  ) => {
    const value = text === undefined || text === '' ? fallback : Number(text);
    if (!ok(value)) throw new Error(`${name}: invalid value "${text}"\n\n${USAGE}`);
    return value;
  };
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  const only = values.only ?? env.BENCH_ONLY ?? 'both';
  if (only !== 'both' && only !== 'baseline' && only !== 'service') {
    throw new Error(`--only: must be baseline, service or both (got "${only}")\n\n${USAGE}`);
  }
  const role = values.role ?? env.BENCH_ROLE ?? 'api';
  if (role !== 'api' && role !== 'both') {
    throw new Error(`--role: must be api or both (got "${role}")\n\n${USAGE}`);
  }
  const cpus = values.cpus ?? env.BENCH_CPUS ?? 'pinned';
  if (cpus !== 'pinned' && cpus !== 'shared') {
    throw new Error(`--cpus: must be pinned or shared (got "${cpus}")\n\n${USAGE}`);
  }
  return {
    role,
    cpus,
    durationSeconds: number('--duration', values.duration ?? env.BENCH_DURATION, 10, positiveInt),
    warmupSeconds: number(
      '--warmup',
      values.warmup ?? env.BENCH_WARMUP,
      3,
      (n) => Number.isInteger(n) && n >= 0,
    ),
    connections: number(
      '--connections',
      values.connections ?? env.BENCH_CONNECTIONS,
      50,
      positiveInt,
    ),
    duplicateShare: number(
      '--duplicates',
      values.duplicates ?? env.BENCH_DUPLICATES,
      0.1,
      (n) => n >= 0 && n < 1,
    ),
    seed: number('--seed', values.seed ?? env.BENCH_SEED, 1, Number.isInteger),
    targets: only === 'both' ? ['baseline', 'service'] : [only],
    dataParent: resolve(values['data-parent'] ?? env.BENCH_DATA_PARENT ?? tmpdir()),
    profile: values.profile || env.BENCH_PROFILE === '1',
    keepData: values['keep-data'],
    save: !values['no-save'] && env.BENCH_SAVE !== '0',
  };
}

/**
 * The service's environment: every setting the config reads is decided here, none inherited,
 * so a developer's shell cannot change what is measured.
 */
function serviceEnvironment(
  dataDir: string,
  port: number,
  role: Options['role'],
): NodeJS.ProcessEnv {
  const inherited = environmentWithoutSettings();
  return {
    ...inherited,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: LOOPBACK,
    LOG_LEVEL: 'warn',
    SERVICE_ROLE: role,
    // The built-in simulator listens on a port of its own choosing, on loopback.
    SIM_PORT: '0',
    SIM_HOST: LOOPBACK,
    SIM_LOG_LEVEL: 'warn',
    // Keep the provider integration near idle while we measure the accept path: one submission
    // at a time, each answered 200 after 1 s, no 504s, no webhooks, no status-check budget.
    WORKER_CONCURRENCY: '1',
    SIM_P504: '0',
    SIM_WEBHOOK_SHARE: '0',
    SIM_RESPONSE_DELAY_MIN_SECONDS: '1',
    SIM_RESPONSE_DELAY_MAX_SECONDS: '1',
    SIM_STATUS_BUDGET_RPS: '0',
    // One client sends everything: a limit it never reaches, so its bookkeeping is measured.
    RATE_LIMIT_PER_PRINCIPAL: '10000000',
  };
}

function fileSystemType(dir: string): string {
  const result = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

interface Prepared {
  child: ManagedChild;
  url: string;
  headers: Record<string, string>;
  /** Runs once the target is ready, before the warm-up: outside anything measured. */
  setUp: () => Promise<void>;
  cleanup: () => void;
}

/** The core a server is pinned to, if the servers are pinned. */
function serverCore(options: Options): number | undefined {
  return options.cpus === 'pinned' ? SERVER_CORE : undefined;
}

async function startBaseline(
  options: Options,
  nodeArgs: (name: string) => string[],
): Promise<Prepared> {
  const port = await freePort();
  const child = startChild({
    name: 'baseline',
    script: join(__dirname, 'baseline-server.js'),
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), HOST: LOOPBACK },
    core: serverCore(options),
    nodeArgs: nodeArgs('baseline'),
  });
  return {
    child,
    url: `http://${LOOPBACK}:${port}`,
    headers: {},
    setUp: () => Promise.resolve(),
    cleanup: () => undefined,
  };
}

async function startService(
  options: Options,
  nodeArgs: (name: string) => string[],
): Promise<Prepared> {
  mkdirSync(options.dataParent, { recursive: true });
  const dataDir = mkdtempSync(join(options.dataParent, 'ledger-bench-'));
  const port = await freePort();
  const env = serviceEnvironment(dataDir, port, options.role);
  // Same config and DATA_DIR as the service: this creates the development secret it will verify with.
  const config = AppConfig.fromEnvironment(env);
  const secret = signingSecret(config);
  if (!secret) throw new Error('no signing secret for the bench token');
  const token = await issueToken(config, secret, {
    subject: BENCH_CLIENT,
    roles: [],
    expiresIn: '1h',
  });
  const operatorToken = await issueToken(config, secret, {
    subject: 'bench-operator',
    roles: ['operator'],
    expiresIn: '1h',
  });
  const url = `http://${LOOPBACK}:${port}`;
  console.log(
    `service DATA_DIR ${dataDir} (${fileSystemType(dataDir)}), SERVICE_ROLE=${options.role}`,
  );
  const child = startChild({
    name: 'service',
    script: join(repoRoot, 'dist', 'src', 'main.js'),
    cwd: repoRoot,
    env,
    core: serverCore(options),
    nodeArgs: nodeArgs('service'),
  });
  return {
    child,
    url,
    headers: { authorization: `Bearer ${token}` },
    // The service holds each payment's amount on the client's account: fund it first.
    setUp: () => fundAccount(url, operatorToken, { owner: BENCH_CLIENT, currency: 'KES' }),
    cleanup: () => {
      if (options.keepData) console.log(`kept ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function describeFailures(target: Target, phase: string, outcome: LoadOutcome): string[] {
  const { result, statusCounts } = outcome;
  const failures: string[] = [];
  if (result.non2xx > 0) {
    failures.push(
      `${target} ${phase}: ${result.non2xx} non-2xx answers (status counts ${JSON.stringify(statusCounts)})`,
    );
  }
  if (result.errors > 0 || result.timeouts > 0) {
    failures.push(
      `${target} ${phase}: ${result.errors} connection errors, ${result.timeouts} timeouts`,
    );
  }
  return failures;
}

async function measure(
  target: Target,
  options: Options,
  prepared: Prepared,
  failures: string[],
): Promise<TargetResult> {
  const { child, url, headers } = prepared;
  const readyMs = await waitUntilReady(child, `${url}/health/ready`, READY_TIMEOUT_MS);
  await prepared.setUp();
  const load = (seconds: number, bodies: TransactionBodies) =>
    runLoad({
      url,
      path: '/v1/transactions',
      headers,
      connections: options.connections,
      durationSeconds: seconds,
      bodies,
    });
  const random = new SeededRandom(options.seed);

  if (options.warmupSeconds > 0) {
    // Warm-up ids differ from measured ones so every measured "unique" request is really new.
    const warm = await load(
      options.warmupSeconds,
      new TransactionBodies('warm', options.duplicateShare, options.connections, random),
    );
    const warmFailures = describeFailures(target, 'warm-up', warm);
    if (warmFailures.length > 0) throw new Error(warmFailures.join('\n'));
  }

  const bodies = new TransactionBodies('run', options.duplicateShare, options.connections, random);
  const core = serverCore(options);
  const coreBefore = core === undefined ? undefined : coreTimes(core);
  const serverBefore = cpuSeconds(child.pid);
  const loaderBefore = process.cpuUsage();
  const startedAt = performance.now();
  const outcome = await load(options.durationSeconds, bodies);
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const serverAfter = cpuSeconds(child.pid);
  const coreAfter = core === undefined ? undefined : coreTimes(core);
  const loaderUsage = process.cpuUsage(loaderBefore);
  failures.push(...describeFailures(target, 'measured run', outcome));

  const { result } = outcome;
  const { retries } = bodies.counts;
  const answered = result['2xx'] + result.non2xx;
  const serverSeconds =
    serverBefore !== undefined && serverAfter !== undefined ? serverAfter - serverBefore : null;
  // Each connection may hold one built retry that was never sent when the run stopped.
  if (
    target === 'service' &&
    (outcome.replayed > retries || outcome.replayed < retries - options.connections)
  ) {
    failures.push(
      `service: ${retries} retries built but ${outcome.replayed} answers said Idempotent-Replayed`,
    );
  }
  return {
    target,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    answered2xx: result['2xx'],
    statusCounts: outcome.statusCounts,
    retriesBuilt: retries,
    replayed: outcome.replayed,
    serverCpu: serverSeconds === null ? null : serverSeconds / wallSeconds,
    cpuMicrosPerRequest:
      serverSeconds === null ? null : (serverSeconds * 1e6) / Math.max(answered, 1),
    serverCoreBusy: busyShare(coreBefore, coreAfter),
    loaderCpu: (loaderUsage.user + loaderUsage.system) / 1e6 / wallSeconds,
    readyMs,
    stopped: { code: null, signal: null, killed: false },
  };
}

const percent = (share: number | null) => (share === null ? 'n/a' : `${Math.round(share * 100)}%`);
const fixed = (value: number, digits: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits });

function printTable(results: TargetResult[]): void {
  const rows = [
    [
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'errors',
      '2xx total',
      'replayed',
      'server CPU',
      'CPU µs/req',
      'core 0 busy',
      'loader CPU',
    ],
    ...results.map((r) => [
      r.target,
      fixed(r.requestsPerSecond, 0),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
      String(r.non2xx),
      String(r.errors + r.timeouts),
      String(r.answered2xx),
      r.target === 'service' ? `${r.replayed}/${r.retriesBuilt}` : '-',
      percent(r.serverCpu),
      r.cpuMicrosPerRequest === null ? 'n/a' : fixed(r.cpuMicrosPerRequest, 0),
      percent(r.serverCoreBusy),
      percent(r.loaderCpu),
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
        )
        .join('  '),
    );
  }
}

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const opts = options;
  // Pinned: the servers get core 0 to themselves; the load generator must not steal their CPU.
  const canPin = opts.cpus === 'pinned' && availableParallelism() >= 2;
  const loaderCpus = canPin ? pinSelf(LOADER_CORE) : undefined;
  const pinning = {
    servers: canPin && loaderCpus !== undefined ? String(SERVER_CORE) : 'unpinned',
    loader: loaderCpus ?? allowedCpus() ?? 'unknown',
  };
  if (opts.cpus === 'pinned' && (!canPin || loaderCpus === undefined)) {
    console.warn(
      'WARNING: cannot pin (needs taskset and 2 cores): server and loader share CPUs; numbers are not comparable.',
    );
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileDir = join(resultsDir, 'profiles', stamp);
  const nodeArgs = (name: string) =>
    opts.profile
      ? // A folder per server: each thread writes its own profile (CPU.<date>.<pid>.<thread>...).
        ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`]
      : [];

  const perTargetMs =
    READY_TIMEOUT_MS + (opts.warmupSeconds + opts.durationSeconds) * 1000 + 20_000 + STOP_GRACE_MS;
  const watchdog = setTimeout(
    () => {
      console.error(
        `FAIL: the bench did not finish within ${perTargetMs * opts.targets.length} ms; stopping.`,
      );
      void stopAllChildren().finally(() => process.exit(1));
    },
    perTargetMs * opts.targets.length + 10_000,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`interrupted (${signal}); stopping the servers`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }

  console.log(
    `accept bench: ${opts.connections} connections, ${opts.warmupSeconds} s warm-up + ${opts.durationSeconds} s measured per target, ` +
      `${Math.round(opts.duplicateShare * 100)}% retries of earlier ids; servers on CPU ${pinning.servers}, autocannon on CPU ${pinning.loader}`,
  );

  // A shared machine (builds, tests, other benches) lowers both numbers unevenly; say so.
  const idle = await backgroundBusy([SERVER_CORE, LOADER_CORE], 1_000);
  const busiest = Math.max(...idle.map((share) => share ?? 0));
  console.log(
    `before loading: CPU ${SERVER_CORE} ${percent(idle[0])} busy, CPU ${LOADER_CORE} ${percent(idle[1])} busy`,
  );
  if (busiest > 0.1) {
    console.warn(
      `WARNING: the machine is not idle (${percent(busiest)} of a core busy before the bench); results will be low and noisy.`,
    );
  }

  const failures: string[] = [];
  const results: TargetResult[] = [];
  try {
    for (const target of opts.targets) {
      console.log(`\n${target}: starting`);
      const prepared =
        target === 'baseline'
          ? await startBaseline(opts, nodeArgs)
          : await startService(opts, nodeArgs);
      let result: TargetResult | undefined;
      try {
        result = await measure(target, opts, prepared, failures);
      } finally {
        const stopped = await prepared.child.stop(STOP_GRACE_MS);
        prepared.cleanup();
        if (stopped.killed || stopped.code !== 0) {
          failures.push(
            `${target}: did not stop cleanly on SIGTERM (code ${stopped.code}, signal ${stopped.signal}, killed ${stopped.killed})`,
          );
        }
        if (result) result.stopped = stopped;
      }
      console.log(
        `${target}: ${fixed(result.requestsPerSecond, 0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`,
      );
      results.push(result);
    }
  } catch (error) {
    clearTimeout(watchdog);
    await stopAllChildren();
    console.error(`\nFAIL: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  clearTimeout(watchdog);

  console.log('');
  printTable(results);
  const baseline = results.find((r) => r.target === 'baseline');
  const service = results.find((r) => r.target === 'service');
  const ratio = baseline && service ? service.requestsPerSecond / baseline.requestsPerSecond : null;
  // Same ratio from CPU time per request: it holds up when other work shares the machine.
  const cpuRatio =
    baseline?.cpuMicrosPerRequest && service?.cpuMicrosPerRequest
      ? baseline.cpuMicrosPerRequest / service.cpuMicrosPerRequest
      : null;
  if (ratio !== null) {
    console.log(
      `\nratio service/baseline: ${ratio.toFixed(2)} (goal >= ${RATIO_GOAL}: ${ratio >= RATIO_GOAL ? 'met' : 'NOT met'})`,
    );
    if (cpuRatio !== null) {
      console.log(`by CPU time per request (baseline µs / service µs): ${cpuRatio.toFixed(2)}`);
    }
  }
  for (const r of results) {
    // Loopback softirq time lands on the core too, but not this much: something else ran there.
    const foreign = (r.serverCoreBusy ?? 0) - (r.serverCpu ?? 0);
    if (foreign > 0.15) {
      console.warn(
        `WARNING: during the ${r.target} run, ${percent(foreign)} of CPU ${SERVER_CORE} went to other work; compare CPU µs/req rather than req/s.`,
      );
    }
  }
  if (opts.profile) console.log(`CPU profiles: ${profileDir}`);
  for (const failure of failures) console.error(`FAIL: ${failure}`);

  const summary = {
    bench: 'accept',
    serviceRole: opts.role,
    at: new Date().toISOString(),
    node: process.version,
    connections: opts.connections,
    durationSeconds: opts.durationSeconds,
    duplicateShare: opts.duplicateShare,
    pinning,
    busyBefore: idle.map((share) => (share === null ? null : Number(share.toFixed(2)))),
    ...Object.fromEntries(
      results.map((r) => [
        r.target,
        {
          rps: Math.round(r.requestsPerSecond),
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          non2xx: r.non2xx,
          serverCpu: r.serverCpu === null ? null : Number(r.serverCpu.toFixed(2)),
          cpuMicrosPerRequest:
            r.cpuMicrosPerRequest === null ? null : Math.round(r.cpuMicrosPerRequest),
          serverCoreBusy: r.serverCoreBusy === null ? null : Number(r.serverCoreBusy.toFixed(2)),
        },
      ]),
    ),
    ratio: ratio === null ? null : Number(ratio.toFixed(3)),
    cpuRatio: cpuRatio === null ? null : Number(cpuRatio.toFixed(3)),
    ratioGoal: RATIO_GOAL,
    ok: failures.length === 0,
  };
  if (opts.save) {
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `accept-${stamp}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ summary, options: opts, results, failures }, null, 2)}\n`,
    );
    console.log(`saved ${file}`);
  }
  // Last line, alone: machine-readable summary.
  console.log(JSON.stringify(summary));
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error('accept bench crashed:', error);
    await stopAllChildren();
    process.exit(1);
  },
);
