import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config';
import { WorkQueue } from '../../process-manager/work-queue.port';
import { ProjectionsService } from '../../projections/projections.service';
import {
  providerHealthPerBucket,
  providerHealthSpell,
} from '../../provider-health/provider-health.history';
import { ProviderHealthProjection } from '../../provider-health/provider-health.projection';
import { summaryStatistics } from '../../read-model/summary-statistics';
import { Clock } from '../../shared/clock';
import { ReadModel, TransactionSummary } from '../../transactions/read-model.port';
import { toParkedWorkView } from '../parked-work/parked-work.dto';
import { DashboardView, MAX_DASHBOARD_TRANSACTIONS, PARKED_WORK_LISTED } from './dashboard.dto';
import { DashboardQuery } from './dashboard.query';
import { ReconciliationQueueSampler } from './reconciliation-queue.sampler';
import { transactionsPerBucket } from './transaction-series';

const HOUR_MS = 3_600_000;
/** The charts' bucket: one minute. */
export const DASHBOARD_BUCKET_MS = 60_000;
const SEARCH_PAGE = 1_000;
/** Times back to the oldest observation at which the provider's state is evaluated to date it. */
const STATE_EVALUATIONS = 120;

/**
 * How long (clock time) the computed series are reused for the same `hours`: the page refreshes
 * every 5 s in each support tab, and series a second old show the same minutes. Computing them
 * reads up to 20,000 summaries and evaluates the provider's state 120 times.
 */
export const DASHBOARD_MAX_AGE_MS = 1_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** The dashboard's series from the read model and the provider's observations. */
type Series = Omit<DashboardView, 'reconciliationQueue' | 'parkedWork'>;

/**
 * Support's dashboard: the series behind the console's charts, each from its own store: the read
 * model (transactions), the provider health projection's observations, the queue sampler, the
 * work queue (parked steps).
 */
@QueryHandler(DashboardQuery)
export class DashboardHandler implements IQueryHandler<DashboardQuery, DashboardView> {
  /** Per `hours` (1 to 24, so at most 24 entries): the latest series, or those being computed. */
  private readonly recent = new Map<number, { at: number; series: Promise<Series> }>();

  constructor(
    private readonly readModel: ReadModel,
    private readonly projections: ProjectionsService,
    private readonly healthProjection: ProviderHealthProjection,
    private readonly queueSampler: ReconciliationQueueSampler,
    private readonly workQueue: WorkQueue,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** The costly series come from `seriesOf`; the queue's size and the parked work, read now. */
  async execute({ hours }: DashboardQuery): Promise<DashboardView> {
    const [series, queueNow, parked] = await Promise.all([
      this.seriesOf(hours),
      this.queueSampler.sizeNow(),
      this.workQueue.parkedWork(PARKED_WORK_LISTED + 1),
    ]);
    return {
      ...series,
      reconciliationQueue: {
        size: queueNow.size,
        samples: [...this.queueSampler.since(Date.parse(series.from)), queueNow].map(
          ({ at, size }) => ({ at: iso(at), size }),
        ),
      },
      parkedWork: {
        count: Math.min(parked.length, PARKED_WORK_LISTED),
        more: parked.length > PARKED_WORK_LISTED,
        items: parked.slice(0, PARKED_WORK_LISTED).map(toParkedWorkView),
      },
    };
  }

  /** Reused for DASHBOARD_MAX_AGE_MS of clock time; concurrent requests share one computation. */
  private seriesOf(hours: number): Promise<Series> {
    const now = this.clock.now().getTime();
    const cached = this.recent.get(hours);
    if (cached && now >= cached.at && now - cached.at < DASHBOARD_MAX_AGE_MS) return cached.series;
    const entry = { at: now, series: this.computeSeries(hours) };
    this.recent.set(hours, entry);
    // A failed computation is not reused: the next request tries again.
    entry.series.catch(() => {
      if (this.recent.get(hours) === entry) this.recent.delete(hours);
    });
    return entry.series;
  }

  private async computeSeries(hours: number): Promise<Series> {
    await this.projections.catchUp(this.config.readConsistencyTimeoutMs);
    const now = this.clock.now().getTime();
    const from = now - hours * HOUR_MS;
    const requested = await this.requestedBetween(from, now);
    const transactions = requested.summaries.flatMap(({ state }) => (state.exists ? [state] : []));
    const { shortWindowMs, longWindowMs, thresholds } = this.config.providerHealth;
    const observations = this.healthProjection.observations();
    const spell = providerHealthSpell(
      observations,
      now,
      from,
      shortWindowMs,
      thresholds,
      STATE_EVALUATIONS,
    );
    return {
      from: iso(from),
      to: iso(now),
      bucketMs: DASHBOARD_BUCKET_MS,
      transactions: {
        perMinute: transactionsPerBucket(transactions, from, now, DASHBOARD_BUCKET_MS).map(
          (bucket) => ({ ...bucket, at: iso(bucket.at) }),
        ),
        timeToFinal: summaryStatistics(requested.summaries).timeToFinal,
        truncated: requested.truncated,
      },
      provider: {
        state: spell.state,
        since: spell.since === null ? null : iso(spell.since),
        keptMs: longWindowMs,
        perMinute: providerHealthPerBucket(observations, from, now, DASHBOARD_BUCKET_MS).map(
          (bucket) => ({ ...bucket, at: iso(bucket.at) }),
        ),
      },
    };
  }

  /** The newest MAX_DASHBOARD_TRANSACTIONS requested in [from, to], by support's search. */
  private async requestedBetween(
    from: number,
    to: number,
  ): Promise<{ summaries: TransactionSummary[]; truncated: boolean }> {
    const summaries: TransactionSummary[] = [];
    let before: bigint | undefined;
    do {
      const page = await this.readModel.searchSummaries({
        requestedFrom: iso(from),
        requestedTo: iso(to + 1),
        before,
        limit: Math.min(SEARCH_PAGE, MAX_DASHBOARD_TRANSACTIONS + 1 - summaries.length),
      });
      summaries.push(...page.items);
      before = page.nextBefore ?? undefined;
    } while (before !== undefined && summaries.length <= MAX_DASHBOARD_TRANSACTIONS);
    return {
      summaries: summaries.slice(0, MAX_DASHBOARD_TRANSACTIONS),
      truncated: summaries.length > MAX_DASHBOARD_TRANSACTIONS,
    };
  }
}
