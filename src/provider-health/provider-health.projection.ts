import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventStore, RecordedEvent } from '../event-store/event-store.port';
import { HostedProjection } from '../projections/hosted-projection';
import { Clock } from '../shared/clock';
import type { Projection } from '../projections/projection-runner';
import { isTransactionStreamEvent, toTransactionEvent } from '../transactions/transaction-streams';
import { Observation, ObservedTransaction, observe } from './provider-observations';

export const PROVIDER_HEALTH_PROJECTION = 'provider-health';

/**
 * What the ledger saw of the provider over the long window, kept in memory and rebuilt from
 * `$all` at every start: nothing is stored, so it reads the same on every event store and read
 * model, and every instance folds the same events to the same figures. Only pending
 * transactions and the long window's observations are kept.
 */
@Injectable()
@HostedProjection()
export class ProviderHealthProjection implements Projection {
  readonly name = PROVIDER_HEALTH_PROJECTION;
  private readonly pending = new Map<string, ObservedTransaction>();
  private kept: Observation[] = [];
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
    let newest = this.kept.at(-1)?.at ?? 0;
    for (const event of events.filter(isTransactionStreamEvent)) {
      const { tracked, observations } = observe(
        this.pending.get(event.streamName) ?? null,
        toTransactionEvent(event),
      );
      if (tracked) this.pending.set(event.streamName, tracked);
      else this.pending.delete(event.streamName);
      for (const observation of observations) {
        this.kept.push(observation);
        newest = Math.max(newest, observation.at);
      }
    }
    const oldest = newest - this.config.providerHealth.longWindowMs;
    if ((this.kept[0]?.at ?? newest) <= oldest) this.kept = this.kept.filter((o) => o.at > oldest);
    this.applied.emit('applied');
    return Promise.resolve();
  }

  observations(): readonly Observation[] {
    return this.kept;
  }

  /** Calls `listener` after every applied batch. */
  onApplied(listener: () => void): () => void {
    this.applied.on('applied', listener);
    return () => this.applied.off('applied', listener);
  }
}
