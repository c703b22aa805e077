import { Logger } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import type { BudgetReading } from './status-check-budget.port';

export const STATUS_CHECK_BUDGET_METRICS = {
  rate: 'ledger_status_check_budget_rate',
  tokens: 'ledger_status_check_budget_tokens',
  blocked: 'ledger_status_check_budget_blocked',
  blockedUntil: 'ledger_status_check_budget_blocked_until_seconds',
} as const;

/**
 * The shared status-check budget as Prometheus gauges, read from the store when scraped: the
 * budget changes with every check any instance makes, so a value set earlier would be stale.
 * When the store cannot be read they say NaN (unknown) rather than a made-up figure: prom-client
 * exports a gauge without labels as 0 until set, which would read as "no checks allowed".
 */
export class StatusCheckBudgetGauges {
  private readonly logger = new Logger('StatusCheckBudgetGauges');
  private reading: Promise<BudgetReading | null> | null = null;

  constructor(
    registry: Registry,
    private readonly read: () => Promise<BudgetReading>,
  ) {
    const m = STATUS_CHECK_BUDGET_METRICS;
    this.gauge(
      registry,
      m.rate,
      'Status checks per second in force, less than configured after 429s',
      (r) => r.ratePerSecond,
    );
    this.gauge(
      registry,
      m.tokens,
      'Tokens in the status-check bucket (at most 1; 0 during a ban)',
      (r) => r.tokens,
    );
    this.gauge(
      registry,
      m.blocked,
      '1 while the provider has told us to stop checking (a 429 ban)',
      (r) => (r.blockedUntil === null ? 0 : 1),
    );
    this.gauge(
      registry,
      m.blockedUntil,
      'When the ban on status checks ends, epoch seconds; 0 when none',
      (r) => (r.blockedUntil ?? 0) / 1000,
    );
  }

  private gauge(
    registry: Registry,
    name: string,
    help: string,
    value: (reading: BudgetReading) => number,
  ): void {
    const readOnce = () => this.readOnce();
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const reading = await readOnce();
        this.set(reading === null ? NaN : value(reading));
      },
    });
  }

  /** One read per scrape: a scrape collects every gauge at once, so they show the same moment. */
  private readOnce(): Promise<BudgetReading | null> {
    this.reading ??= this.read()
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'status-check budget unreadable; its gauges say NaN');
        return null;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}
