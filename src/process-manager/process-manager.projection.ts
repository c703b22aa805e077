import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { RecordedEvent } from '../event-store/event-store.port';
import type { Projection } from '../projections/projection-runner';
import type { CliProjection } from '../projections/projections.cli';
import { transactionIdOf } from '../transactions/transaction-id';
import { isTransactionStreamEvent, toTransactionEvent } from '../transactions/transaction-streams';
import { ProcessManagerSettings, Reaction, netChange, react } from './process-manager';
import { CheckpointedSchedule } from './checkpointed-schedule.port';

type Listener = () => void;

const PROCESS_MANAGER_PROJECTION = 'process-manager';

/** The process manager's registration with `npm run projections`: status only. */
export const processManagerOnStores: CliProjection<{ workStore: CheckpointedSchedule | null }> = {
  name: PROCESS_MANAGER_PROJECTION,
  checkpoint: ({ workStore }) => workStore?.checkpoint() ?? Promise.resolve(null),
  rebuild: { refused: 'replaying it would schedule provider calls again' },
};

/**
 * Work carries the correlation id of the request that started the chain and the id of the event
 * that caused it, so the events the work appends can be traced back to both.
 */
function traced(reaction: Reaction, cause: RecordedEvent): Reaction {
  if (reaction.kind !== 'schedule') return reaction;
  const payload = {
    ...reaction.work.payload,
    correlationId: cause.metadata.correlationId,
    causationId: cause.id,
  };
  return { kind: 'schedule', work: { ...reaction.work, payload } };
}

/**
 * Turns the transactions' events into scheduled work, stored with the process manager's own
 * checkpoint so that a crash neither loses a plan nor applies an event twice.
 */
@Injectable()
export class ProcessManagerProjection implements Projection {
  readonly name = PROCESS_MANAGER_PROJECTION;
  private readonly settings: ProcessManagerSettings;
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly workStore: CheckpointedSchedule,
    config: AppConfig,
  ) {
    this.settings = {
      reconciliationDeadlineMs: config.provider.reconciliationDeadlineMs,
      holdTtlMs: config.provider.holdTtlMs,
      notifyClient: config.clientCallback !== null,
    };
  }

  checkpoint(): Promise<bigint | null> {
    return this.workStore.checkpoint();
  }

  async apply(events: RecordedEvent[], checkpoint: bigint): Promise<void> {
    const reactions = events
      .filter(isTransactionStreamEvent)
      .flatMap((event) =>
        react(transactionIdOf(event.streamName), toTransactionEvent(event), this.settings).map(
          (reaction) => traced(reaction, event),
        ),
      );
    await this.workStore.commit(netChange(reactions), {
      firstPosition: events[0].position,
      checkpoint,
    });
    if (reactions.length > 0) for (const listener of this.listeners) listener();
  }

  /** Called after new work was stored, so a sleeping worker can look at once. */
  onScheduled(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
