/**
 * The reference provider mix, end to end: the service (createApp, embedded default, temp
 * DATA_DIR) and the provider simulator (defaults, seeded) run in this process with time
 * compressed; transactions go in through the real HTTP API at a steady rate; once every one is
 * final (or in reconciliation) the simulator's ground truth is joined with our views to measure
 * promises 3 (fastest truthful outcome) and 5 (polite to the provider), and to check that one
 * request made one charge. Run with `npm run bench:provider-mix -- --help`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { Agent, request } from 'undici';
import { createApp } from '../src/app.factory';
import { signingSecret } from '../src/auth/signing-key';
import { issueToken } from '../src/auth/token-issuer';
import { AppConfig } from '../src/config/app-config';
import { EventStore } from '../src/event-store/event-store.port';
import type { GroundTruth } from '../src/provider-simulator/ground-truth';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../src/provider-simulator/provider-simulator';
import { streamNameFor, transactionIdFor } from '../src/transactions/transaction-id';
import type { TransactionView } from '../src/transactions/transaction.view';
import {
  AttemptStarts,
  ClockReading,
  Distribution,
  MixReport,
  ProviderTimeline,
  SOURCES,
  analyseMix,
  formatTable,
  readClocks,
} from './support/provider-mix-stats';
import { fundAccount } from './support/funding';
import { LOOPBACK, freePort } from './support/processes';
import { REFERENCE_TIMINGS, compressedServiceEnv } from '../src/provider-simulator/compressed-time';

/** STATUS_CHECK_RATE is 2 / scale and the service caps it at 1000 per second. */
const MIN_SCALE = 0.002;

const USAGE = `Usage: npm run bench:provider-mix -- [options]

Runs the reference provider mix (simulator defaults: 10% 504s of which half appear late, 2/3
completed, 80% of 200s followed by a webhook 10-30 s later) through the real HTTP API of the
service, both in this process with time compressed, and reports in provider seconds how soon
each final status followed the provider's answer, what it cost in status checks, and whether
the promises held (one charge, truthful final status, status budget kept, nothing lost).

  --transactions <n>  transactions to submit                       (default 300)
  --rate <n>          submissions per provider second               (default 20)
  --scale <s>         real seconds per provider second, ${MIN_SCALE} to 1;
                      1 runs in real time (several minutes)          (default 0.02)
  --seed <n>          the simulator's seed                           (default 20261121)
  --log-level <lvl>   service and simulator log level, to stderr     (default warn)
  -h, --help
`;

const OWNER = 'bench-mix';
const PAGE_SIZE = 100;
/** Provider seconds to wait past the reconciliation deadline before giving up on stragglers. */
const GIVE_UP_MARGIN_SECONDS = 60;
/** Real milliseconds of slack on every bounded wait, for start-up and CPU hiccups. */
const SLACK_MS = 2_000;
/** Tick of the event-loop delay monitor, in real milliseconds. */
const LOOP_TICK_MS = 10;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/** The reference timings the service is configured with, in provider seconds. */

interface Options {
  transactions: number;
  rate: number;
  scale: number;
  seed: number;
  logLevel: LogLevel;
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      transactions: { type: 'string', short: 'n' },
      rate: { type: 'string' },
      scale: { type: 'string' },
      seed: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const number = (name: string, text: string | undefined, fallback: number) => {
    const value = text === undefined ? fallback : Number(text);
    if (text?.trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`--${name}: invalid value "${text}"`);
    }
    return value;
  };
  const transactions = number('transactions', values.transactions, 300);
  const rate = number('rate', values.rate, 20);
  const scale = number('scale', values.scale, 0.02);
  const seed = number('seed', values.seed, 20261121);
  if (!Number.isInteger(transactions) || transactions < 1) {
    throw new UsageError('--transactions: must be a whole number, 1 or more');
  }
  if (!(rate > 0)) throw new UsageError('--rate: must be a number greater than 0');
  if (!(scale >= MIN_SCALE && scale <= 1)) {
    throw new UsageError(`--scale: must be from ${MIN_SCALE} to 1`);
  }
  if (!Number.isInteger(seed)) throw new UsageError('--seed: must be a whole number');
  const logLevel = values['log-level'] ?? 'warn';
  if (!LOG_LEVELS.some((level) => level === logLevel)) {
    throw new UsageError(`--log-level: one of ${LOG_LEVELS.join(', ')}`);
  }
  return { transactions, rate, scale, seed, logLevel: logLevel as LogLevel };
}

class UsageError extends Error {}

/** HTTP to the service over one pool of ours, closed at the end so no socket outlives the run. */
class ServiceClient {
  private readonly agent = new Agent({ connections: 32 });

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async submit(clientId: string): Promise<number> {
    const response = await request(`${this.baseUrl}/v1/transactions`, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: clientId, amount: 1000, currency: 'KES', recipient: 'bob' }),
    });
    await response.body.dump();
    return response.statusCode;
  }

  /** Every transaction of ours, following the cursor (the order is stable: by request). */
  async listAll(): Promise<TransactionView[]> {
    const views: TransactionView[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = (await this.getJson(`/v1/transactions?limit=${PAGE_SIZE}${query}`)) as {
        items: TransactionView[];
        nextCursor: string | null;
      };
      views.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return views;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async getJson(path: string): Promise<unknown> {
    const response = await request(`${this.baseUrl}${path}`, {
      dispatcher: this.agent,
      headers: { authorization: `Bearer ${this.token}` },
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      throw new Error(`GET ${path} answered ${response.statusCode}: ${text.slice(0, 200)}`);
    }
    return JSON.parse(text) as unknown;
  }
}

interface Submitted {
  accepted: string[];
  failures: string[];
  acceptLatencyMs: number[];
  /** Real milliseconds from the first POST sent to the last. */
  spanMs: number;
  lastAcceptWallMs: number;
}

/** POSTs `n` transactions on a fixed schedule (absolute due times, so a late tick catches up). */
async function submitAll(
  client: ServiceClient,
  options: Options,
  signal: AbortSignal,
): Promise<Submitted> {
  const intervalMs = (1000 * options.scale) / options.rate;
  const accepted: string[] = [];
  const failures: string[] = [];
  const acceptLatencyMs: number[] = [];
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let lastSent = started;
  for (let i = 0; i < options.transactions; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await delay(wait, undefined, { signal });
    const clientId = `mix-${i}`;
    const sentAt = performance.now();
    lastSent = sentAt;
    inFlight.push(
      client.submit(clientId).then(
        (status) => {
          acceptLatencyMs.push(performance.now() - sentAt);
          if (status === 202) accepted.push(clientId);
          else failures.push(`${clientId}: answered ${status}`);
        },
        (error: unknown) => {
          failures.push(`${clientId}: ${String(error)}`);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  return {
    accepted,
    failures,
    acceptLatencyMs,
    spanMs: lastSent - started,
    lastAcceptWallMs: Date.now(),
  };
}

const isSettled = (view: TransactionView) =>
  view.status !== 'PENDING' || view.reconciliation !== null;

/**
 * Polls the list until every accepted transaction is final or in reconciliation, or until the
 * reconciliation deadline (plus a margin) has passed since the last accept: by then promise 4
 * says each must be one or the other, so whatever is left is a straggler worth reporting.
 */
async function waitUntilSettled(
  client: ServiceClient,
  expected: number,
  lastAcceptWallMs: number,
  options: Options,
  simulator: RunningProviderSimulator,
  signal: AbortSignal,
): Promise<'settled' | 'gave up'> {
  const toRealMs = (seconds: number) => seconds * 1000 * options.scale;
  const giveUpAt =
    lastAcceptWallMs +
    toRealMs(REFERENCE_TIMINGS.reconciliationDeadline + GIVE_UP_MARGIN_SECONDS) +
    SLACK_MS;
  // Polling only decides when to stop measuring: finalizedAt comes from the service's events.
  const pollMs = Math.min(1_000, Math.max(100, toRealMs(0.5)));
  const progressEveryMs = Math.max(5_000, toRealMs(30));
  let nextProgress = Date.now() + progressEveryMs;
  for (;;) {
    const views = await client.listAll();
    const settled = views.filter(isSettled).length;
    if (views.length >= expected && settled === views.length) return 'settled';
    if (Date.now() > giveUpAt) return 'gave up';
    if (Date.now() >= nextProgress) {
      nextProgress += progressEveryMs;
      const now = simulator.truth().nowSeconds;
      console.log(`  ... ${settled}/${expected} settled at provider second ${now.toFixed(0)}`);
    }
    await delay(pollMs, undefined, { signal });
  }
}

/**
 * Webhooks may still be on their way after every status is final (they come 10 to 30 s after
 * the POST): waits for each one the simulator planned, so "arrived after final" counts them all.
 */
async function waitForPlannedWebhooks(
  simulator: RunningProviderSimulator,
  timeline: ProviderTimeline,
  signal: AbortSignal,
): Promise<void> {
  let expected = 0;
  let lastSendAt = 0;
  for (const tx of simulator.truth().transactions) {
    for (const submission of tx.submissions) {
      const { outcome } = submission;
      if (outcome.kind === 'ok' && outcome.webhook) {
        expected += outcome.webhook.copies;
        lastSendAt = Math.max(
          lastSendAt,
          submission.receivedAtSeconds + outcome.webhook.delaySeconds,
        );
      }
    }
  }
  const deadline =
    timeline.wallMsAt(lastSendAt) + simulator.options.webhookDeliveryTimeoutMs + SLACK_MS;
  while (simulator.truth().totals.webhookDeliveries.attempted < expected && Date.now() < deadline) {
    await delay(50, undefined, { signal });
  }
}

/**
 * When we recorded each attempt's intent, read from our own streams through the event-store port
 * (read-only; this build has no audit route). Our late-window rule counts from that moment, so
 * comparing it with the POST's arrival at the provider explains any short retry gap.
 */
async function readAttemptStarts(
  app: NestFastifyApplication,
  clientIds: readonly string[],
): Promise<AttemptStarts> {
  const store = app.get(EventStore);
  const starts = new Map<string, { attempt: number; startedAt: string }[]>();
  for (const clientId of clientIds) {
    const events = await store.readStream(streamNameFor(transactionIdFor(OWNER, clientId)));
    starts.set(
      clientId,
      events.flatMap(({ type, data }) =>
        type === 'ProviderSubmissionStarted' &&
        typeof data.attempt === 'number' &&
        typeof data.startedAt === 'string'
          ? [{ attempt: data.attempt, startedAt: data.startedAt }]
          : [],
      ),
    );
  }
  return starts;
}

// ---------------------------------------------------------------------------------------------
// Printing

const secs = (value: number) => value.toFixed(2);
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

function latencyRow(label: string, d: Distribution | null): string[] {
  return d
    ? [label, String(d.count), secs(d.p50), secs(d.p90), secs(d.p99), secs(d.max)]
    : [label, '0', '-', '-', '-', '-'];
}

function checksRow(label: string, d: Distribution | null, total: number): string[] {
  return d
    ? [
        label,
        String(d.count),
        String(total),
        d.mean.toFixed(2),
        String(d.p50),
        String(d.p99),
        String(d.max),
      ]
    : [label, '0', '0', '-', '-', '-', '-'];
}

function compact(d: Distribution | null): Record<string, number> | null {
  return (
    d && {
      n: d.count,
      mean: round(d.mean),
      p50: round(d.p50),
      p90: round(d.p90),
      p99: round(d.p99),
      max: round(d.max),
    }
  );
}

interface RunFacts {
  options: Options;
  /** This process's event-loop delay while measuring: service, simulator and bench share it. */
  loopDelay: IntervalHistogram;
  submitted: Submitted;
  timeline: ProviderTimeline;
  end: ClockReading;
  budgetPerSecond: number | null;
  realSeconds: number;
}

function printReport(report: MixReport, facts: RunFacts): boolean {
  const { options, submitted, timeline, end } = facts;
  const driftMs = timeline.driftMs(end);
  const driftOk = Math.abs(driftMs) <= timeline.toleranceMs(end);
  const acceptMs = submitted.acceptLatencyMs.sort((a, b) => a - b);
  const spanProviderSeconds = submitted.spanMs / 1000 / options.scale;
  const resolution = 0.001 / options.scale;

  console.log('');
  console.log(
    `provider mix: ${options.transactions} transactions at ${options.rate}/provider s, ` +
      `scale ${options.scale} (${round(1 / options.scale, 1)}x), seed ${options.seed}, ` +
      `${round(facts.realSeconds, 1)} s real`,
  );
  console.log(
    `  service: late window ${REFERENCE_TIMINGS.lateWindow}+${REFERENCE_TIMINGS.lateWindowMargin} s, checks ` +
      `${REFERENCE_TIMINGS.checkRate}/s (floor ${REFERENCE_TIMINGS.checkMinRate}), backoff ` +
      `${REFERENCE_TIMINGS.checkBaseDelay}..${REFERENCE_TIMINGS.checkMaxDelay} s, reconciliation ` +
      `${REFERENCE_TIMINGS.reconciliationDeadline} s; simulator budget ${facts.budgetPerSecond ?? 'off'}/s`,
  );
  console.log(
    `  clocks: wall->provider map anchored at provider ${secs(timeline.anchor.providerSeconds)} s; ` +
      `end check drift ${driftMs.toFixed(2)} ms real (${(driftMs / 1000 / options.scale).toFixed(3)} ` +
      `provider s), ${driftOk ? 'within' : 'OUTSIDE'} reading tolerance; resolution ` +
      `${resolution.toFixed(3)} provider s`,
  );
  console.log('');
  console.log(
    `Submissions: ${submitted.accepted.length}/${options.transactions} accepted (202) over ` +
      `${secs(spanProviderSeconds)} provider s ` +
      `(${round(spanProviderSeconds > 0 ? (options.transactions - 1) / spanProviderSeconds : 0, 1)}/s); ` +
      `accept latency p50 ${acceptMs[Math.floor(acceptMs.length / 2)]?.toFixed(1) ?? '-'} ms, ` +
      `max ${acceptMs.at(-1)?.toFixed(1) ?? '-'} ms real`,
  );
  const lag = report.acceptToFirstPost;
  if (lag) {
    console.log(
      `  accept -> first POST at the provider: p50 ${secs(lag.p50)}, p99 ${secs(lag.p99)}, ` +
        `max ${secs(lag.max)} provider s`,
    );
  }
  const intent = report.intentToArrival;
  if (intent) {
    console.log(
      `  our intent record -> that POST at the provider (every attempt): p50 ${secs(intent.p50)}, ` +
        `p99 ${secs(intent.p99)}, max ${secs(intent.max)} provider s`,
    );
  }
  // The histogram records the time between its own ticks: the delay is what exceeds the tick.
  const loopMs = (q: number) => Math.max(0, facts.loopDelay.percentile(q) / 1e6 - LOOP_TICK_MS);
  const loopMax = Math.max(0, facts.loopDelay.max / 1e6 - LOOP_TICK_MS);
  console.log(
    `  event-loop delay (one process: bench, service, simulator): p50 ${loopMs(50).toFixed(1)}, ` +
      `p99 ${loopMs(99).toFixed(1)}, max ${loopMax.toFixed(1)} ms real ` +
      `(max = ${secs(loopMax / 1000 / options.scale)} provider s)`,
  );
  const o = report.outcomes;
  console.log(
    `  provider drew per POST: ok ${o.ok}, late 504 ${o.late}, lost 504 ${o.lost} ` +
      `(${report.posts.total} POSTs for ${report.transactions} transactions)`,
  );

  console.log('');
  console.log("Time from the provider's answer to our final status (provider seconds)");
  const t = report.answerToFinal;
  console.log(
    formatTable([
      ['', 'n', 'p50', 'p90', 'p99', 'max'],
      latencyRow('overall', t.overall),
      ...SOURCES.filter((source) => (t.bySource[source]?.count ?? 0) > 0).map((source) =>
        latencyRow(`  source ${source}`, t.bySource[source]),
      ),
      latencyRow('  after a 200 (respondedAt)', t.byAnswer.ok200),
      latencyRow('  after a late 504 (visibleAt)', t.byAnswer.late504),
      latencyRow('lost every attempt: 1st POST -> FAILED', report.lostEveryAttempt),
    ]),
  );
  if (t.unmeasured > 0)
    console.log(`  (${t.unmeasured} final with no answer time at the provider)`);

  console.log('');
  const c = report.statusChecks;
  console.log('Status checks per transaction (as the provider received them)');
  console.log(
    formatTable([
      ['', 'txs', 'total', 'mean', 'p50', 'p99', 'max'],
      checksRow('all transactions', c.all, c.total),
      checksRow('504 cases (late or lost)', c.timeoutCases, c.timeoutCasesTotal),
    ]),
  );
  console.log(
    `  ${c.total} checks for ${report.transactions} transactions ` +
      `(${(c.total / Math.max(report.transactions, 1)).toFixed(3)} each); our views count ` +
      `${c.ourTotal}; ${c.afterFinal} received after our status was final`,
  );
  console.log(
    `  busiest provider second: ${c.maxInAnySecond} checks (budget ${c.budgetPerSecond ?? 'off'}); ` +
      `429s: ${c.rejected429}; bans: ${c.bans}`,
  );

  console.log('');
  const sources = SOURCES.map((source) => `${source} ${report.finalSources[source] ?? 0}`);
  console.log(`Final status by source: ${sources.join(', ')}`);
  console.log(
    `  in reconciliation: ${report.reconciliation}; not settled: ${report.stragglers.length}` +
      `${report.missing.length > 0 ? `; never seen: ${report.missing.length}` : ''}`,
  );
  const w = report.webhooks;
  console.log(
    `Webhooks: ${w.sent} sent; ${w.afterFinal} after our status was already final` +
      (w.afterFinalBy
        ? ` (by p50 ${secs(w.afterFinalBy.p50)} s, max ${secs(w.afterFinalBy.max)} s)`
        : '') +
      `; ${w.atOrBeforeFinal} at or before it` +
      (w.forUnsettled > 0 ? `; ${w.forUnsettled} for unsettled transactions` : ''),
  );

  console.log('');
  const p = report.posts;
  const histogram = Object.entries(p.perIdHistogram)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([posts, ids]) => `${posts} POST(s): ${ids} ids`)
    .join(', ');
  console.log(`POSTs at the provider: ${p.total}; ${histogram}`);
  console.log(
    `  idsSubmittedMoreThanOnce ${p.idsSubmittedMoreThanOnce}; retries ${p.retries.length}, ` +
      `each must follow a lost POST by more than the ${REFERENCE_TIMINGS.lateWindow} s late window ` +
      `(our rule waits ${REFERENCE_TIMINGS.lateWindow + REFERENCE_TIMINGS.lateWindowMargin} s)` +
      (p.minRetryGapSeconds === null ? '' : `; shortest gap ${secs(p.minRetryGapSeconds)} s`),
  );
  // The bad ones first: they are the ones to read.
  const shown = [...p.retries].sort((a, b) => Number(a.ok) - Number(b.ok)).slice(0, 10);
  for (const retry of shown) {
    const why =
      retry.ourGapSeconds === null || retry.previousIntentToArrivalSeconds === null
        ? ''
        : ` (our intents ${secs(retry.ourGapSeconds)} s apart; POST ${retry.attempt - 1} ` +
          `arrived ${secs(retry.previousIntentToArrivalSeconds)} s after its intent)`;
    console.log(
      `    ${retry.ok ? 'ok ' : 'BAD'} ${retry.clientId} POST ${retry.attempt}: ` +
        `${secs(retry.gapSeconds)} s after a '${retry.previousOutcome}' POST${why}`,
    );
  }
  if (p.retries.length > 10) console.log(`    ... and ${p.retries.length - 10} more`);

  console.log('');
  console.log('Invariants');
  const acceptedAll = submitted.failures.length === 0;
  const lines: [string, { pass: boolean; problems: string[] }, string][] = [
    [
      'all accepted',
      { pass: acceptedAll, problems: submitted.failures.slice(0, 5) },
      `${submitted.accepted.length}/${options.transactions} answered 202`,
    ],
    [
      'one charge',
      report.invariants.oneCharge,
      `POSTs = attempts for every id, and each of ${p.retries.length} retries after a lost ` +
        `POST's ${REFERENCE_TIMINGS.lateWindow} s late window`,
    ],
    [
      'final status = provider outcome',
      report.invariants.truthfulStatus,
      `${report.settled - report.reconciliation} final statuses match the ground truth`,
    ],
    [
      'budget kept',
      report.invariants.budgetKept,
      `max ${c.maxInAnySecond}/s <= ${c.budgetPerSecond ?? 'off'}, ${c.rejected429} x 429`,
    ],
    [
      'nothing lost',
      report.invariants.nothingLost,
      `${report.settled}/${report.transactions} final or in reconciliation`,
    ],
  ];
  for (const [name, verdict, detail] of lines) {
    console.log(`  ${verdict.pass ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
    for (const problem of verdict.problems) console.log(`       ${problem}`);
  }
  const pass = lines.every(([, verdict]) => verdict.pass);
  console.log(
    `RESULT ${pass ? 'PASS' : 'FAIL'}${driftOk ? '' : ' (clock map drifted: see above)'}`,
  );

  const summary = {
    bench: 'provider-mix',
    pass,
    transactions: options.transactions,
    ratePerProviderSecond: options.rate,
    scale: options.scale,
    seed: options.seed,
    realSeconds: round(facts.realSeconds, 1),
    accepted: submitted.accepted.length,
    settled: report.settled,
    reconciliation: report.reconciliation,
    answerToFinalSeconds: compact(t.overall),
    answerToFinalBySource: Object.fromEntries(
      SOURCES.filter((source) => t.bySource[source]).map((source) => [
        source,
        compact(t.bySource[source]),
      ]),
    ),
    lostEveryAttemptSeconds: compact(report.lostEveryAttempt),
    statusChecks: {
      total: c.total,
      perTransaction: compact(c.all),
      timeoutCases: compact(c.timeoutCases),
      afterFinal: c.afterFinal,
      maxInAnySecond: c.maxInAnySecond,
      budget: c.budgetPerSecond,
      rejected429: c.rejected429,
    },
    finalSources: report.finalSources,
    webhooks: { sent: w.sent, afterFinal: w.afterFinal, atOrBeforeFinal: w.atOrBeforeFinal },
    posts: {
      total: p.total,
      idsSubmittedMoreThanOnce: p.idsSubmittedMoreThanOnce,
      minRetryGapSeconds: p.minRetryGapSeconds === null ? null : round(p.minRetryGapSeconds),
    },
    intentToArrivalSeconds: compact(report.intentToArrival),
    acceptToFirstPostSeconds: compact(report.acceptToFirstPost),
    eventLoopDelayMs: {
      p50: round(loopMs(50), 1),
      p99: round(loopMs(99), 1),
      max: round(loopMax, 1),
    },
    clockDriftMs: round(driftMs, 2),
  };
  console.log(JSON.stringify(summary));
  return pass;
}

// ---------------------------------------------------------------------------------------------

async function run(options: Options, signal: AbortSignal): Promise<boolean> {
  const startedAt = performance.now();
  const logger = pino({ level: options.logLevel }, pino.destination({ dest: 2, sync: true }));
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-provider-mix-'));
  let simulator: RunningProviderSimulator | null = null;
  let app: NestFastifyApplication | null = null;
  let client: ServiceClient | null = null;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_TICK_MS });
  try {
    // The reference mix is the simulator's defaults: only the speed and the seed are set.
    simulator = await startProviderSimulator({
      host: LOOPBACK,
      port: 0,
      timeScale: options.scale,
      seed: options.seed,
      logger: logger.child({ component: 'provider-simulator' }),
    });
    const port = await freePort();
    const config = AppConfig.fromEnvironment({
      LOG_LEVEL: options.logLevel,
      ...compressedServiceEnv(simulator.url, options.scale),
      // As the end-to-end harness polls: other processes' events are seen within 50 ms.
      SQLITE_POLL_INTERVAL_MS: '50',
      // One client and one provider address send everything: limits they never reach.
      RATE_LIMIT_PER_PRINCIPAL: '10000000',
      RATE_LIMIT_PER_ADDRESS: '10000000',
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: LOOPBACK,
    });
    app = await createApp(config, { logger });
    await app.listen({ port, host: LOOPBACK });
    const secret = signingSecret(config);
    if (!secret) throw new Error('no signing secret for the bench token');
    // Long enough for a real-time run to reach its give-up point.
    const token = await issueToken(config, secret, {
      subject: OWNER,
      roles: [],
      expiresIn: '2h',
    });
    const baseUrl = `http://${LOOPBACK}:${port}`;
    const operatorToken = await issueToken(config, secret, {
      subject: 'bench-operator',
      roles: ['operator'],
      expiresIn: '2h',
    });
    await fundAccount(baseUrl, operatorToken, { owner: OWNER, currency: 'KES' });
    client = new ServiceClient(baseUrl, token);

    const sim = simulator;
    const timeline = new ProviderTimeline(
      readClocks(
        () => sim.truth(),
        (truth) => truth.nowSeconds,
      ).reading,
      options.scale,
    );
    console.log(
      `submitting ${options.transactions} transactions (scale ${options.scale}, seed ${options.seed})`,
    );
    loopDelay.enable();
    const submitted = await submitAll(client, options, signal);
    const settling = await waitUntilSettled(
      client,
      submitted.accepted.length,
      submitted.lastAcceptWallMs,
      options,
      sim,
      signal,
    );
    if (settling === 'gave up')
      console.log('  gave up waiting: reconciliation deadline and margin passed');
    await waitForPlannedWebhooks(sim, timeline, signal);

    // Views and truth read together, so both describe the same moment.
    loopDelay.disable();
    const views = await client.listAll();
    const end = readClocks(
      () => sim.truth(),
      (truth: GroundTruth) => truth.nowSeconds,
    );
    const seen = new Set(views.map((view) => view.id));
    const report = analyseMix({
      views,
      missing: submitted.accepted.filter((clientId) => !seen.has(clientId)),
      attemptStarts: await readAttemptStarts(
        app,
        views.map((view) => view.id),
      ),
      truth: end.value,
      providerIdOf: (clientId) => transactionIdFor(OWNER, clientId),
      timeline,
      lateAppearanceMaxSeconds: sim.options.lateAppearanceSeconds.max,
      maxAttempts: REFERENCE_TIMINGS.maxAttempts,
      statusBudgetPerSecond: sim.options.statusBudget?.requestsPerSecond ?? null,
    });
    return printReport(report, {
      options,
      loopDelay,
      submitted,
      timeline,
      end: end.reading,
      budgetPerSecond: sim.options.statusBudget?.requestsPerSecond ?? null,
      realSeconds: (performance.now() - startedAt) / 1000,
    });
  } finally {
    loopDelay.disable();
    // The service first: its in-flight provider calls end before the simulator goes away.
    await client?.close();
    await app?.close();
    await simulator?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let options: Options | null;
  try {
    options = parseOptions();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (!options) {
    console.log(USAGE);
    return;
  }
  // Ctrl-C stops the waits, so the finally block still closes everything and removes DATA_DIR.
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    process.exitCode = (await run(options, abort.signal)) ? 0 : 1;
  } catch (error) {
    console.error(abort.signal.aborted ? 'interrupted' : error);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  // Everything is closed by now and the process should exit on its own; if a handle leaks,
  // say which instead of hanging (the timer is unref'd, so it never keeps the process alive).
  setTimeout(() => {
    console.error('still running 10 s after the end; open:', process.getActiveResourcesInfo());
    process.exit(1);
  }, 10_000).unref();
}

void main();
