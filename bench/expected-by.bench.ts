/**
 * How good `expectedBy` is on the reference provider mix: the share of transactions that became
 * final no later than the first `expectedBy` their customer was shown (goal: 90%). The service
 * (createApp, embedded default, temp DATA_DIR) and the simulator (defaults, seeded) run in this
 * process with time compressed; each transaction is read once right after its request, as an
 * app would, then followed until final. Run with `npm run bench:expected-by -- --help`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { request } from 'undici';
import { createApp } from '../src/app.factory';
import { signingSecret } from '../src/auth/signing-key';
import { issueToken } from '../src/auth/token-issuer';
import { AppConfig } from '../src/config/app-config';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../src/provider-simulator/provider-simulator';
import { compressedServiceEnv } from '../src/provider-simulator/compressed-time';
import type { TransactionView } from '../src/transactions/transaction.view';
import { fundAccount } from './support/funding';
import { LOOPBACK, freePort } from './support/processes';

const USAGE = `Usage: npm run bench:expected-by -- [options]

  --transactions <n>  transactions to submit                 (default 400)
  --rate <n>          submissions per provider second         (default 5)
  --scale <s>         real seconds per provider second        (default 0.02)
  --seed <n>          the simulator's seed                    (default 20261205)`;

const OWNER = 'bench-expected-by';

interface Sample {
  clientId: string;
  /** The first expectedBy shown; null when the first read found it already final. */
  expectedBy: string | null;
  view: TransactionView | null;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      transactions: { type: 'string', default: '400' },
      rate: { type: 'string', default: '5' },
      scale: { type: 'string', default: '0.02' },
      seed: { type: 'string', default: '20261205' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const transactions = Number(values.transactions);
  const rate = Number(values.rate);
  const scale = Number(values.scale);
  const seed = Number(values.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-expected-by-'));
  const logger = pino({ level: 'silent' });
  let simulator: RunningProviderSimulator | null = null;
  let app: NestFastifyApplication | null = null;
  try {
    simulator = await startProviderSimulator({ host: LOOPBACK, port: 0, timeScale: scale, seed });
    const port = await freePort();
    const scaled = (ms: number) => String(Math.round(ms * scale));
    const config = AppConfig.fromEnvironment({
      LOG_LEVEL: 'silent',
      ...compressedServiceEnv(simulator.url, scale),
      PROVIDER_HEALTH_SHORT_WINDOW_MS: scaled(300_000),
      PROVIDER_HEALTH_LONG_WINDOW_MS: scaled(3_600_000),
      PROVIDER_HEALTH_SLOW_P90_MS: scaled(15_000),
      PROVIDER_HEALTH_OUTAGE_SILENCE_MS: scaled(60_000),
      SQLITE_POLL_INTERVAL_MS: '50',
      RATE_LIMIT_PER_PRINCIPAL: '10000000',
      RATE_LIMIT_PER_ADDRESS: '10000000',
      DATA_DIR: dataDir,
      PORT: String(port),
    });
    app = await createApp(config, { logger });
    await app.listen({ port, host: LOOPBACK });
    const secret = signingSecret(config);
    if (!secret) throw new Error('no signing secret for the bench token');
    const token = await issueToken(config, secret, { subject: OWNER, roles: [], expiresIn: '2h' });
    const operator = await issueToken(config, secret, {
      subject: 'bench-operator',
      roles: ['operator'],
      expiresIn: '2h',
    });
    const baseUrl = `http://${LOOPBACK}:${port}`;
    await fundAccount(baseUrl, operator, { owner: OWNER, currency: 'KES' });

    const call = async (method: 'GET' | 'POST', path: string, body?: unknown, wait?: number) => {
      const response = await request(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(wait ? { prefer: `wait=${wait}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return (await response.body.json()) as TransactionView;
    };

    const intervalMs = (1000 * scale) / rate;
    const samples: Promise<Sample>[] = [];
    for (let i = 0; i < transactions; i++) {
      const clientId = `eb-${i}`;
      samples.push(
        (async (): Promise<Sample> => {
          await call('POST', '/v1/transactions', {
            id: clientId,
            amount: 100,
            currency: 'KES',
            recipient: 'bob',
          });
          const first = await call('GET', `/v1/transactions/${clientId}`);
          const expectedBy = first.status === 'PENDING' ? (first.expectedBy ?? null) : null;
          let view = first;
          for (let round = 0; round < 60 && view.status === 'PENDING'; round++) {
            if (view.reconciliation !== null) break;
            view = await call('GET', `/v1/transactions/${clientId}`, undefined, 5);
          }
          return { clientId, expectedBy, view };
        })(),
      );
      await delay(intervalMs);
    }
    const done = await Promise.all(samples);
    const measured = done.filter(
      (s) => s.expectedBy !== null && s.view?.status !== 'PENDING' && s.view?.finalizedAt,
    );
    const inTime = measured.filter(
      (s) => Date.parse(s.view!.finalizedAt!) <= Date.parse(s.expectedBy!),
    );
    const finalAtOnce = done.filter((s) => s.expectedBy === null).length;
    const unfinished = done.filter((s) => s.view?.status === 'PENDING').length;
    const share = measured.length === 0 ? 0 : inTime.length / measured.length;
    console.log(
      JSON.stringify(
        {
          transactions,
          rate,
          scale,
          seed,
          measured: measured.length,
          finalBeforeFirstExpectedBy: inTime.length,
          share: Math.round(share * 1000) / 1000,
          finalAtFirstRead: finalAtOnce,
          unfinishedOrWithSupport: unfinished,
        },
        null,
        2,
      ),
    );
    return 0;
  } finally {
    await app?.close();
    await simulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
