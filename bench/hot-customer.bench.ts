import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { signingSecret } from '../src/auth/signing-key';
import { issueToken } from '../src/auth/token-issuer';
import type { Role } from '../src/auth/token-verifier';
import { AppConfig } from '../src/config/app-config';
import { SeededRandom } from '../src/shared/random';
import { fundAccount } from './support/funding';
import { LoadOutcome, TransactionBodies, runLoad } from './support/load';
import {
  environmentWithoutSettings,
  LOOPBACK,
  ManagedChild,
  freePort,
  stopAllChildren,
  startChild,
  waitUntilReady,
} from './support/processes';

const USAGE = `Usage: npm run bench:hot-customer -- [options]

The hot customer as a client sees it: the real service as its own process (SERVICE_ROLE=api, the
accept path: each accepted POST /v1/transactions is one hold on the payer's account; no provider
calls) on the embedded SQLite store in a temp DATA_DIR. Funds the accounts over HTTP, warms up,
then drives autocannon with --connections connections and a new transaction id per request, for
--seconds each: every request paid by ONE customer (one account), then by --connections
customers (a token per connection, an account per token). Prints accepted req/s, p50/p99
latency, non-2xx answers, 409 conflicts (AccountConcurrentWritesError) and the ratio.

  --connections <n>   concurrent connections, and customers in the spread case (default 50)
  --seconds <s>       measured seconds per case (default 5)
  --warmup <s>        warm-up seconds over every account before the cases (default 2)
`;

const READY_TIMEOUT_MS = 60_000;
/** Longer than the service's own SHUTDOWN_TIMEOUT_MS (10 s), so it gets to finish on its own. */
const STOP_GRACE_MS = 15_000;
const CURRENCY = 'KES';
const HOT_CUSTOMER = 'hot-customer';
const spreadCustomer = (index: number) => `customer-${index}`;

/** Paths are relative to the compiled file (dist/bench/hot-customer.bench.js). */
const repoRoot = resolve(__dirname, '..', '..');

interface Options {
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

interface CaseResult {
  label: string;
  acceptedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  conflicts: number;
  errors: number;
  statusCounts: Record<string, number>;
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const connections = Number(values.connections);
  const seconds = Number(values.seconds);
  const warmupSeconds = Number(values.warmup);
  // autocannon counts whole seconds.
  if (
    !Number.isSafeInteger(connections) ||
    connections < 1 ||
    !Number.isSafeInteger(seconds) ||
    seconds < 1 ||
    !Number.isSafeInteger(warmupSeconds) ||
    warmupSeconds < 0
  ) {
    throw new Error(USAGE);
  }
  return { connections, seconds, warmupSeconds };
}

/**
 * Every setting the config reads is decided here, none inherited from the developer's shell.
 * Rate limits out of reach: one address (and in one case one customer) sends everything.
 */
function serviceEnvironment(dataDir: string, port: number): NodeJS.ProcessEnv {
  const inherited = environmentWithoutSettings();
  return {
    ...inherited,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: LOOPBACK,
    LOG_LEVEL: 'warn',
    SERVICE_ROLE: 'api',
    SIM_PORT: '0',
    SIM_HOST: LOOPBACK,
    SIM_LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_PRINCIPAL: '10000000',
    RATE_LIMIT_PER_ADDRESS: '10000000',
  };
}

function summarize(label: string, seconds: number, outcome: LoadOutcome): CaseResult {
  const { result, statusCounts } = outcome;
  return {
    label,
    acceptedPerSecond: result['2xx'] / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    // With a new id per request, the route's only 409 is a hold that lost to rival writes.
    conflicts: statusCounts['409'] ?? 0,
    errors: result.errors + result.timeouts,
    statusCounts,
  };
}

function failuresOf(result: CaseResult): string[] {
  const failures: string[] = [];
  if (result.non2xx > result.conflicts) {
    failures.push(
      `${result.label}: non-2xx answers other than 409 (status counts ${JSON.stringify(result.statusCounts)})`,
    );
  }
  if (result.errors > 0) {
    failures.push(`${result.label}: ${result.errors} connection errors or timeouts`);
  }
  return failures;
}

async function run(options: Options, child: ManagedChild, url: string, tokens: Tokens) {
  await waitUntilReady(child, `${url}/health/ready`, READY_TIMEOUT_MS);
  const owners = [HOT_CUSTOMER, ...tokens.spread.map((_, index) => spreadCustomer(index))];
  for (const owner of owners) {
    await fundAccount(url, tokens.operator, { owner, currency: CURRENCY });
  }
  const random = new SeededRandom(1);
  const authorization = (token: string) => ({ authorization: `Bearer ${token}` });
  const spreadHeaders = tokens.spread.map(authorization);
  const load = (prefix: string, seconds: number, perConnectionHeaders: Record<string, string>[]) =>
    runLoad({
      url,
      path: '/v1/transactions',
      headers: {},
      connections: options.connections,
      durationSeconds: seconds,
      // No retries: every request is a new transaction, so every 2xx is a new hold.
      bodies: new TransactionBodies(prefix, 0, options.connections, random),
      perConnectionHeaders,
    });

  const failures: string[] = [];
  if (options.warmupSeconds > 0) {
    const warm = summarize(
      'warm-up',
      options.warmupSeconds,
      await load('warm', options.warmupSeconds, [authorization(tokens.hot), ...spreadHeaders]),
    );
    failures.push(...failuresOf(warm));
  }
  const one = summarize(
    `${options.connections} connections, ONE account`,
    options.seconds,
    await load('one', options.seconds, [authorization(tokens.hot)]),
  );
  const spread = summarize(
    `${options.connections} connections, ${options.connections} accounts`,
    options.seconds,
    await load('spread', options.seconds, spreadHeaders),
  );
  return {
    results: [one, spread],
    failures: [...failures, ...failuresOf(one), ...failuresOf(spread)],
  };
}

interface Tokens {
  operator: string;
  hot: string;
  spread: string[];
}

async function issueTokens(env: NodeJS.ProcessEnv, customers: number): Promise<Tokens> {
  // Same config and DATA_DIR as the service: this creates the development secret it verifies with.
  const config = AppConfig.fromEnvironment(env);
  const secret = signingSecret(config);
  if (!secret) throw new Error('no signing secret for the bench tokens');
  const token = (subject: string, roles: Role[] = []) =>
    issueToken(config, secret, { subject, roles, expiresIn: '1h' });
  return {
    operator: await token('bench-operator', ['operator']),
    hot: await token(HOT_CUSTOMER),
    spread: await Promise.all(
      Array.from({ length: customers }, (_, index) => token(spreadCustomer(index))),
    ),
  };
}

const fixed = (value: number, digits: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits });

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
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`interrupted (${signal}); stopping the service`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'hot-customer-bench-'));
  const port = await freePort();
  const env = serviceEnvironment(dataDir, port);
  const tokens = await issueTokens(env, options.connections);
  const url = `http://${LOOPBACK}:${port}`;
  console.log(
    `hot-customer bench: ${options.connections} connections, ${options.warmupSeconds} s warm-up, ` +
      `${options.seconds} s per case; SERVICE_ROLE=api on SQLite in ${dataDir}; nothing pinned; ` +
      `load average before ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}`,
  );
  let unclean: string | undefined;
  const child = startChild({
    name: 'service',
    script: join(repoRoot, 'dist', 'src', 'main.js'),
    cwd: repoRoot,
    env,
  });
  let outcome: Awaited<ReturnType<typeof run>>;
  try {
    outcome = await run(options, child, url, tokens);
  } finally {
    const stopped = await child.stop(STOP_GRACE_MS);
    rmSync(dataDir, { recursive: true, force: true });
    if (stopped.killed || stopped.code !== 0) {
      unclean = `the service did not stop cleanly on SIGTERM (code ${stopped.code}, signal ${stopped.signal})`;
    }
  }
  if (unclean) outcome.failures.push(unclean);
  const [one, spread] = outcome.results;
  for (const result of outcome.results) {
    console.log(
      `${result.label}: ${fixed(result.acceptedPerSecond, 0)} accepted req/s (each a hold), ` +
        `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.non2xx} non-2xx, ` +
        `${result.conflicts} 409 conflicts`,
    );
  }
  console.log(
    `ratio: one account runs at ${((100 * one.acceptedPerSecond) / spread.acceptedPerSecond).toFixed(1)}% ` +
      `of ${options.connections} accounts' accepted req/s`,
  );
  for (const failure of outcome.failures) console.error(`FAIL: ${failure}`);
  return outcome.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error('hot-customer bench crashed:', error);
    await stopAllChildren();
    process.exit(1);
  },
);
