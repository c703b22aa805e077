import { Injectable } from '@nestjs/common';
import type { RecordedEvent } from '../event-store/event-store.port';
import { HostedProjection } from '../projections/hosted-projection';
import type { Projection } from '../projections/projection-runner';
import { ReadModel, TransactionSummary } from './read-model.port';
import { TransactionChanges } from './transaction-changes';
import { isTransactionStreamEvent, toTransactionEvent } from './transaction-streams';
import { evolve, initialState } from './transaction.state';

/** The projection's name: its checkpoint's, and the one `npm run projections` takes. */
export const SUMMARY_PROJECTION = 'transaction-summaries';

/**
 * Pure: the summary after one more event. The summary is the stream folded through the
 * decider's own `evolve`, so the read model can never disagree with a replay of the events.
 * An event at or below the summary's revision was already applied and changes nothing.
 */
export function projectTransactionSummary(
  summary: TransactionSummary | undefined,
  event: RecordedEvent,
): TransactionSummary | undefined {
  if (summary && event.revision <= summary.revision) return summary;
  const state = evolve(summary?.state ?? initialState, toTransactionEvent(event));
  if (!state.exists) return summary;
  return {
    streamName: event.streamName,
    owner: state.owner,
    clientId: state.clientId,
    status: state.status,
    requestedPosition: summary?.requestedPosition ?? event.position,
    revision: event.revision,
    state,
  };
}

@Injectable()
@HostedProjection()
export class TransactionSummaryProjection implements Projection {
  readonly name = SUMMARY_PROJECTION;

  constructor(
    private readonly readModel: ReadModel,
    private readonly changes: TransactionChanges,
  ) {}

  checkpoint(): Promise<bigint | null> {
    return this.readModel.checkpoint(this.name);
  }

  async apply(events: RecordedEvent[], checkpoint: bigint): Promise<void> {
    const relevant = events.filter(isTransactionStreamEvent);
    const current = await this.readModel.loadSummaries([
      ...new Set(relevant.map((event) => event.streamName)),
    ]);
    const changed = new Map<string, TransactionSummary>();
    for (const event of relevant) {
      const next = projectTransactionSummary(current.get(event.streamName), event);
      if (next && next !== current.get(event.streamName)) {
        current.set(event.streamName, next);
        changed.set(event.streamName, next);
      }
    }
    await this.readModel.commit(this.name, { summaries: [...changed.values()], checkpoint });
    // Every stream the batch touched, changed here or not: after a rebuild swap the new copy may
    // already hold these events, and a client waiting on them must still hear of them now.
    for (const streamName of new Set(relevant.map((event) => event.streamName))) {
      const summary = current.get(streamName);
      if (summary) this.changes.publish(summary);
    }
  }
}
