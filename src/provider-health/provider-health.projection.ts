import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventStore, RecordedEvent } from '../event-store/event-store.port';
import { HostedProjection } from '../projections/hosted-projection';
import { Clock } from '../shared/clock';
import type { Projection } from '../projections/projection-runner';
import { isTransactionStreamEvent, toTransactionEvent } from '../transactions/transaction-streams';
import { compactObservations } from './observation-compaction';
import { bucketStart } from './provider-health.history';
import { Observation, ObservedTransaction, observe } from './provider-observations';

export const PROVIDER_HEALTH_PROJECTION = 'provider-health';

/** The short window is compacted per thirtieth (10 s by default), the long per sixtieth (1 min). */
export const SHORT_WINDOW_INTERVALS = 30;
export const LONG_WINDOW_INTERVALS = 60;

/**
 * What the ledger saw of the provider over the long window, kept in memory and rebuilt from
 * `$all` at every start: nothing is stored, so it reads the same on every event store and read
 * model, and every instance folds the same events to the same figures. Only pending
 * transactions and the long window's observations are kept, compacted (see `compact`) so that
 * their number does not grow with the load.
 */
@Injectable()
@HostedProjection()
export class ProviderHealthProjection implements Projection {
  readonly name = PROVIDER_HEALTH_PROJECTION;
  private readonly pending = new Map<string, ObservedTransaction>();
  /** Older than the short window, compacted per interval of the long window. */
  private older: Observation[] = [];
  /** The short window's closed intervals, compacted per interval. */
  private recent: Observation[] = [];
  /** The current interval of the short window, as observed. */
  private current: Observation[] = [];
  /** All three, in that order, until the next change. */
  private kept: readonly Observation[] | null = null;
  private newest = 0;
  private recentBefore = Number.NEGATIVE_INFINITY;
  private olderBefore = Number.NEGATIVE_INFINITY;
  private readonly applied = new EventEmitter();

  constructor(
    private readonly config: AppConfig,
    private readonly eventStore: EventStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Where the start-up replay begins: the long window, and the reconciliation deadline before
   * it, so every transaction the protocol still settles is read from its request (one older than
   * that is with support, and says nothing of the provider). Older events are never read.
   */
  checkpoint(): Promise<bigint | null> {
    const lookBackMs =
      this.config.providerHealth.longWindowMs + this.config.provider.reconciliationDeadlineMs;
    return this.eventStore.positionBefore(new Date(this.clock.now().getTime() - lookBackMs));
  }

  apply(events: RecordedEvent[]): Promise<void> {
    for (const event of events.filter(isTransactionStreamEvent)) {
      const { tracked, observations } = observe(
        this.pending.get(event.streamName) ?? null,
        toTransactionEvent(event),
      );
      if (tracked) this.pending.set(event.streamName, tracked);
      else this.pending.delete(event.streamName);
      for (const observation of observations) {
        this.current.push(observation);
        this.newest = Math.max(this.newest, observation.at);
      }
      if (observations.length > 0) this.kept = null;
    }
    this.compact();
    this.applied.emit('applied');
    return Promise.resolve();
  }

  /**
   * When an interval of the short window closes (every 10 s by default), its observations are
   * merged (`compactObservations`); when one of the long window's (1 min) leaves the short
   * window, its merged observations are merged again per that interval, and what left the long
   * window is dropped. The short window's figures are then exact to 10 s at its far edge, older
   * moments to a minute, durations to 1.2%, counts exactly; a few hundred observations are kept
   * per interval (one per kind and rounded duration), however many transactions it saw.
   */
  private compact(): void {
    const { shortWindowMs, longWindowMs } = this.config.providerHealth;
    const closed = bucketStart(this.newest, shortWindowMs / SHORT_WINDOW_INTERVALS);
    if (closed <= this.recentBefore) return;
    this.recentBefore = closed;
    this.kept = null;
    this.recent = this.recent.concat(
      compactObservations(
        this.current.filter((o) => o.at < closed),
        closed,
        shortWindowMs / SHORT_WINDOW_INTERVALS,
      ),
    );
    this.current = this.current.filter((o) => o.at >= closed);
    const longIntervalMs = longWindowMs / LONG_WINDOW_INTERVALS;
    const leftShortWindow = bucketStart(this.newest - shortWindowMs, longIntervalMs);
    if (leftShortWindow <= this.olderBefore) return;
    this.olderBefore = leftShortWindow;
    const oldest = this.newest - longWindowMs;
    this.older = this.older
      .filter((o) => o.at > oldest)
      .concat(
        compactObservations(
          this.recent.filter((o) => o.at < leftShortWindow && o.at > oldest),
          leftShortWindow,
          longIntervalMs,
        ),
      );
    this.recent = this.recent.filter((o) => o.at >= leftShortWindow);
  }

  observations(): readonly Observation[] {
    this.kept ??= this.older.concat(this.recent, this.current);
    return this.kept;
  }

  /** Calls `listener` after every applied batch. */
  onApplied(listener: () => void): () => void {
    this.applied.on('applied', listener);
    return () => this.applied.off('applied', listener);
  }
}
