/**
 * CPU the service spends refusing 1,500-deep JSON bodies (issue 11: they used to overflow the
 * stack in class-transformer, a 500 and a stack trace each), next to a trivial GET for scale.
 *
 *   npm run bench:deep-body [-- --requests 3000 --connections 8]
 *
 * The service runs as a child process on the embedded default; its CPU (user + system, every
 * thread, from /proc) is read before and after each case and divided by the requests answered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import {
  LOOPBACK,
  cpuSeconds,
  environmentWithoutSettings,
  freePort,
  startChild,
  waitUntilReady,
} from './support/processes';

const DEPTH = 1500;
const DEEP_BODY = `{"id":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)},"status":"completed"}`;
const FORGED_WEBHOOK = '/v1/provider/webhooks/0b8f3c1e-5d2a-5f4b-9c7d-1e2f3a4b5c6d/forged-token';
const READY_TIMEOUT_MS = 60_000;
const WARM_UP_REQUESTS = 300;

interface BenchCase {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  expectedStatus: number;
}

const CASES: BenchCase[] = [
  {
    name: 'GET /health/live (for scale)',
    method: 'GET',
    path: '/health/live',
    expectedStatus: 200,
  },
  {
    name: `${DEPTH}-deep body, forged webhook URL`,
    method: 'POST',
    path: FORGED_WEBHOOK,
    body: DEEP_BODY,
    expectedStatus: 401,
  },
  {
    name: `${DEPTH}-deep body, POST /v1/transactions, no token`,
    method: 'POST',
    path: '/v1/transactions',
    body: DEEP_BODY,
    expectedStatus: 400,
  },
];

async function send(pool: Pool, benchCase: BenchCase, count: number, connections: number) {
  let next = 0;
  const statuses = new Map<number, number>();
  const worker = async () => {
    while (next < count) {
      next++;
      const response = await pool.request({
        method: benchCase.method,
        path: benchCase.path,
        headers: benchCase.body ? { 'content-type': 'application/json' } : {},
        body: benchCase.body,
      });
      await response.body.dump();
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return statuses;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string' }, connections: { type: 'string' } },
  });
  const requests = Number(values.requests ?? 3000);
  const connections = Number(values.connections ?? 8);
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-deep-body-'));
  const port = await freePort();
  const inherited = environmentWithoutSettings();
  const child = startChild({
    name: 'service',
    script: join(__dirname, '..', 'src', 'main.js'),
    cwd: join(__dirname, '..', '..'),
    env: {
      ...inherited,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: LOOPBACK,
      LOG_LEVEL: 'warn',
      SERVICE_ROLE: 'api',
      // Nothing listens there: no provider traffic competes with the measured requests.
      PROVIDER_URL: `http://${LOOPBACK}:${await freePort()}`,
    },
  });
  const url = `http://${LOOPBACK}:${port}`;
  const pool = new Pool(url, { connections });
  try {
    await waitUntilReady(child, `${url}/health/ready`, READY_TIMEOUT_MS);
    console.log(
      `${requests} requests per case, ${connections} connections, body ${DEEP_BODY.length} bytes`,
    );
    for (const benchCase of CASES) {
      await send(pool, benchCase, WARM_UP_REQUESTS, connections);
      const before = cpuSeconds(child.pid);
      const statuses = await send(pool, benchCase, requests, connections);
      const after = cpuSeconds(child.pid);
      if (before === undefined || after === undefined) throw new Error('cannot read /proc CPU');
      const unexpected = [...statuses].filter(([status]) => status !== benchCase.expectedStatus);
      if (unexpected.length > 0) {
        throw new Error(`${benchCase.name}: unexpected statuses ${JSON.stringify(unexpected)}`);
      }
      const micros = ((after - before) * 1e6) / requests;
      console.log(
        `${benchCase.name.padEnd(48)} ${benchCase.expectedStatus}  ${micros.toFixed(0)} µs CPU/request`,
      );
    }
  } finally {
    await pool.close();
    await child.stop(10_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
