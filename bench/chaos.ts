/**
 * `npm run chaos`: real service processes on one embedded data directory, the HTTP provider
 * simulator in compressed time, phones that retry, and a monkey that SIGKILLs and SIGSTOPs
 * instances; then the invariants against the simulator's ground truth (see chaos-run.ts).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ChaosOptions,
  ChaosReport,
  DEFAULT_CHAOS_OPTIONS,
  INVARIANTS,
  runChaos,
} from './support/chaos-run';
import { Distribution, formatTable } from './support/provider-mix-stats';

const d = DEFAULT_CHAOS_OPTIONS;
const USAGE = `Usage: npm run chaos -- [options]

Starts the provider simulator (reference fault mix, seeded, compressed time) and service
instances (SERVICE_ROLE=both) on one fresh embedded data directory, funds the customers, pays
transactions from phones that retry the same id on errors and timeouts (and sometimes send it
twice at once), while instances are SIGKILLed and restarted, or SIGSTOPped and resumed, at random
moments. Then checks: one charge, final status = provider truth, no status-check ban, every
transaction final or in reconciliation, audit verify, no 500. Exits 1 on any violation.

  --transactions <n>  transactions to pay                          (default ${d.transactions})
  --instances <n>     service processes, 2 or 3                    (default ${d.instances})
  --seed <n>          seeds the simulator, the phones and the monkey (default ${d.seed})
  --scale <s>         real seconds per provider second             (default ${d.scale})
  --phones <n>        transactions in flight at once                (default ${d.phones})
  --customers <n>     customers, each funded by an operator deposit (default ${d.customers})
  --kills <n>         SIGKILLs (each followed by a restart)         (default ${d.kills})
  --pauses <n>        SIGSTOPs (each followed by SIGCONT 1-4 s later) (default ${d.pauses})
  --duplicates <p>    share of requests sent twice at once           (default ${d.duplicateShare})
  --log-level <lvl>   service and simulator log level (to the logs)  (default ${d.logLevel})
  --keep-data         keep the data directory and the process logs
  -h, --help
`;

class UsageError extends Error {}

function parseOptions(): ChaosOptions | null {
  const { values } = parseArgs({
    options: {
      transactions: { type: 'string' },
      instances: { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      phones: { type: 'string' },
      customers: { type: 'string' },
      kills: { type: 'string' },
      pauses: { type: 'string' },
      duplicates: { type: 'string' },
      'log-level': { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const whole = (name: string, text: string | undefined, fallback: number, min: number) => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(value) || value < min || text?.trim() === '') {
      throw new UsageError(`--${name}: must be a whole number, ${min} or more`);
    }
    return value;
  };
  const instances = whole('instances', values.instances, d.instances, 2);
  if (instances > 3) throw new UsageError('--instances: 2 or 3');
  const scale = values.scale === undefined ? d.scale : Number(values.scale);
  if (!(scale >= 0.01 && scale <= 1)) throw new UsageError('--scale: from 0.01 to 1');
  const duplicateShare =
    values.duplicates === undefined ? d.duplicateShare : Number(values.duplicates);
  if (!(duplicateShare >= 0 && duplicateShare <= 1)) {
    throw new UsageError('--duplicates: from 0 to 1');
  }
  return {
    transactions: whole('transactions', values.transactions, d.transactions, 1),
    instances,
    seed: whole('seed', values.seed, d.seed, 0),
    scale,
    phones: whole('phones', values.phones, d.phones, 1),
    customers: whole('customers', values.customers, d.customers, 1),
    kills: whole('kills', values.kills, d.kills, 0),
    pauses: whole('pauses', values.pauses, d.pauses, 0),
    duplicateShare,
    logLevel: values['log-level'] ?? d.logLevel,
    keepData: values['keep-data'],
    distDir: join(__dirname, '..'),
  };
}

function percentiles(d: Distribution | null, factor: number): string {
  return d ? [d.p50, d.p90, d.p99].map((value) => (value * factor).toFixed(2)).join(' / ') : '-';
}

function formatChaosReport(report: ChaosReport): string[] {
  const o = report.options;
  const p = report.provider;
  const t = report.timeToFinalSeconds;
  const rows: string[][] = [
    ['', 'value'],
    ['transactions requested', String(report.transactions.requested)],
    ['  accepted', String(report.transactions.accepted)],
    ['  final', String(report.transactions.final)],
    ['  in reconciliation', String(report.transactions.reconciliation)],
    ['client POSTs (incl. retries)', String(report.client.posts)],
    ['  sent twice at once', String(report.client.duplicates)],
    ['  retried after error/5xx/timeout', String(report.client.retries)],
    ['  timed out (paused or slow instance)', String(report.client.timeouts)],
    ['  refused or cut (killed instance)', String(report.client.errors)],
    ['kills (SIGKILL)', String(report.kills)],
    ['restarts', String(report.restarts)],
    ['pauses (SIGSTOP/SIGCONT)', String(report.pauses)],
    ['provider POSTs ok', String(p.outcomes.ok)],
    ['  504 then appeared late', String(p.outcomes.late)],
    ['  504 and lost', String(p.outcomes.lost)],
    ['webhook deliveries failed', String(p.webhooksFailed)],
    ['status checks (429 / bans)', `${p.statusChecks} (${p.rejected429} / ${p.bans})`],
    ...INVARIANTS.map((name) => [`violations: ${name}`, String(report.violations[name].length)]),
    ['time to final p50 / p90 / p99 (real s)', percentiles(t, 1)],
    ['  in provider seconds', percentiles(t, 1 / o.scale)],
  ];
  const sources = Object.entries(report.finalSources)
    .filter(([, count]) => count > 0)
    .map(([source, count]) => `${source} ${count}`)
    .join(', ');
  return [
    `chaos: ${o.transactions} transactions, ${o.instances} instances, seed ${o.seed}, ` +
      `scale ${o.scale}, ${o.phones} phones, ${o.customers} customers; ` +
      `${report.realSeconds.toFixed(1)} s real`,
    formatTable(rows),
    `  final status by source: ${sources}`,
    ...INVARIANTS.flatMap((name) =>
      report.violations[name].slice(0, 10).map((problem) => `  VIOLATION ${name}: ${problem}`),
    ),
    ...(o.keepData ? [`  data and logs kept in ${report.dataDir}`] : []),
    `RESULT ${report.pass ? 'PASS' : 'FAIL'}`,
  ];
}

async function main(): Promise<void> {
  let options: ChaosOptions | null;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (!options) {
    console.log(USAGE);
    return;
  }
  // Ctrl-C aborts the waits; runChaos's finally stops every child and removes the data.
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const report = await runChaos(options, abort.signal);
    for (const line of formatChaosReport(report)) console.log(line);
    process.exitCode = report.pass ? 0 : 1;
  } catch (error) {
    console.error(abort.signal.aborted ? 'interrupted' : error);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  setTimeout(() => {
    console.error('still running 10 s after the end; open:', process.getActiveResourcesInfo());
    process.exit(1);
  }, 10_000).unref();
}

void main();
