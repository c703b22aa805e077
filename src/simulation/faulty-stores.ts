/**
 * One simulated node's view of the shared stores: every port wrapped so that the node's faults
 * (NodeFaults) strike at its calls. The stores behind them are shared by every node and survive
 * any node's crash, as a database outlives the processes using it.
 */
import {
  AppendResult,
  BatchHandler,
  EventStore,
  ExpectedRevision,
  NewEvent,
  PositionUnit,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
  Subscription,
  WrongExpectedRevisionError,
} from '../event-store/event-store.port';
import type { Projection } from '../projections/projection-runner';
import {
  CheckpointedSchedule,
  PlannedBatch,
  ScheduleChange,
} from '../process-manager/checkpointed-schedule.port';
import { NamedLeases } from '../process-manager/named-leases.port';
import type {
  ClaimedWork,
  ParkedWork,
  WorkBacklog,
  WorkItem,
  WorkKind,
  WorkQueue,
} from '../process-manager/work-queue.port';
import { claimKeyOf } from '../process-manager/work-queue.port';
import {
  BudgetDecision,
  BudgetReading,
  BudgetSettings,
  StatusCheckBudget,
} from '../provider/status-checks/status-check-budget.port';
import { LeaseWatch } from './lease-watch';
import { NodeFaults } from './node-faults';

export class FaultyEventStore extends EventStore {
  constructor(
    private readonly store: EventStore,
    private readonly faults: NodeFaults,
  ) {
    super();
  }

  get positionUnit(): PositionUnit {
    return this.store.positionUnit;
  }

  positionOffset(position: bigint): number {
    return this.store.positionOffset(position);
  }

  appendToStream(
    streamName: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    const { expectedRevision } = options;
    return this.faults.call(
      `append ${events.map((event) => event.type).join('+')} to ${streamName}`,
      () => this.store.appendToStream(streamName, events, options),
      {
        write: true,
        slow: true,
        conflict:
          expectedRevision === 'any'
            ? undefined
            : () => new WrongExpectedRevisionError(streamName, expectedRevision, 'no_stream'),
      },
    );
  }

  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.faults.call(`read ${streamName}`, () => this.store.readStream(streamName, options));
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.faults.call('read $all', () => this.store.readAll(options));
  }

  headPosition(): Promise<bigint> {
    return this.faults.call('head of $all', () => this.store.headPosition());
  }

  positionBefore(time: Date): Promise<bigint> {
    return this.faults.call('position before a time', () => this.store.positionBefore(time));
  }

  /** The node's subscriptions deliver nothing once it crashed (their handlers never settle). */
  subscribeToAll(options: SubscribeToAllOptions, handler: BatchHandler): Subscription {
    return this.store.subscribeToAll(options, (events) =>
      this.faults.call('deliver $all', () => handler(events)),
    );
  }

  ping(): Promise<void> {
    return this.faults.call('ping', () => this.store.ping());
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

type WorkStore = WorkQueue & CheckpointedSchedule;

export class FaultyWorkStore implements WorkQueue, CheckpointedSchedule {
  constructor(
    private readonly store: WorkStore,
    private readonly faults: NodeFaults,
    private readonly leases: LeaseWatch,
  ) {}

  claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    kinds?: readonly WorkKind[],
  ): Promise<ClaimedWork[]> {
    return this.faults.call(
      'claim due work',
      async () => {
        const claimed = await this.store.claimDue(owner, now, leaseMs, limit, kinds);
        this.leases.claimed(claimed);
        return claimed;
      },
      { write: true, slow: true },
    );
  }

  renewLeases(
    owner: string,
    works: readonly ClaimedWork[],
    now: number,
    leaseMs: number,
  ): Promise<ClaimedWork[]> {
    return this.faults.call(
      'renew leases',
      async () => {
        const lost = await this.store.renewLeases(owner, works, now, leaseMs);
        const lostClaims = new Set(lost.map(claimKeyOf));
        for (const work of works) this.leases.renewed(work, !lostClaims.has(claimKeyOf(work)));
        return lost;
      },
      { write: true, slow: true },
    );
  }

  complete(work: ClaimedWork): Promise<void> {
    return this.faults.call(
      `complete ${work.kind}`,
      () => this.release(work, this.store.complete(work)),
      { write: true },
    );
  }

  reschedule(work: ClaimedWork, dueAt: number, payload?: Record<string, unknown>): Promise<void> {
    return this.faults.call(
      `reschedule ${work.kind}`,
      () => this.release(work, this.store.reschedule(work, dueAt, payload)),
      { write: true },
    );
  }

  park(work: ClaimedWork, now: number, reason: string): Promise<void> {
    return this.faults.call(`park ${work.kind}`, () =>
      this.release(work, this.store.park(work, now, reason)),
    );
  }

  /** The claim ends with the store's answer, whatever fault the caller then sees. */
  private async release(work: ClaimedWork, done: Promise<void>): Promise<void> {
    await done;
    this.leases.released(work);
  }

  parkedWork(limit: number): Promise<ParkedWork[]> {
    return this.faults.call('list parked work', () => this.store.parkedWork(limit));
  }

  retryParked(transactionId: string, kind: WorkKind, now: number): Promise<boolean> {
    return this.faults.call(`retry parked ${kind}`, () =>
      this.store.retryParked(transactionId, kind, now),
    );
  }

  nextDueAt(kinds?: readonly WorkKind[]): Promise<number | null> {
    return this.faults.call('next due work', () => this.store.nextDueAt(kinds));
  }

  backlog(now: number): Promise<WorkBacklog> {
    return this.faults.call('count the backlog', () => this.store.backlog(now));
  }

  pending(transactionId: string): Promise<WorkItem[]> {
    return this.faults.call('pending work', () => this.store.pending(transactionId));
  }

  checkpoint(): Promise<bigint | null> {
    return this.faults.call('planner checkpoint', () => this.store.checkpoint());
  }

  commit(change: ScheduleChange, batch: PlannedBatch): Promise<void> {
    return this.faults.call('commit plan', () => this.store.commit(change, batch), {
      write: true,
      slow: true,
    });
  }
}

export class FaultyNamedLeases extends NamedLeases {
  constructor(
    private readonly leases: NamedLeases,
    private readonly faults: NodeFaults,
    private readonly watch: LeaseWatch,
  ) {
    super();
  }

  acquire(name: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    return this.faults.call(
      `acquire ${name}`,
      async () => {
        const granted = await this.leases.acquire(name, owner, now, leaseMs);
        this.watch.acquired(name, owner, now, leaseMs, granted);
        return granted;
      },
      { write: true, slow: true },
    );
  }

  release(name: string, owner: string): Promise<void> {
    return this.faults.call(
      `release ${name}`,
      async () => {
        await this.leases.release(name, owner);
        this.watch.releasedNamed(name, owner);
      },
      { write: true },
    );
  }
}

/**
 * No slow calls here: a grant carries the `now` it was asked at, so one delayed in transit would
 * be spent later than the budget spaced it (a real store answers such a call at once or fails).
 */
export class FaultyStatusCheckBudget extends StatusCheckBudget {
  constructor(
    private readonly budget: StatusCheckBudget,
    private readonly faults: NodeFaults,
  ) {
    super();
  }

  take(now: number, settings: BudgetSettings): Promise<BudgetDecision> {
    return this.faults.call('take a status check', () => this.budget.take(now, settings), {
      write: true,
    });
  }

  slowDown(now: number, until: number, settings: BudgetSettings): Promise<void> {
    return this.faults.call('slow the budget down', () =>
      this.budget.slowDown(now, until, settings),
    );
  }

  recover(now: number, settings: BudgetSettings): Promise<void> {
    return this.faults.call('recover the budget', () => this.budget.recover(now, settings));
  }

  state(now: number, settings: BudgetSettings): Promise<BudgetReading> {
    return this.faults.call('read the budget', () => this.budget.state(now, settings));
  }
}

/**
 * A projection whose commits can fail before or after landing, so the runner's retry path (one
 * event at a time) runs, and an idempotent projection must still end equal to the fold.
 */
export class FaultyProjection implements Projection {
  constructor(
    private readonly projection: Projection,
    private readonly faults: NodeFaults,
  ) {}

  get name(): string {
    return this.projection.name;
  }

  checkpoint(): Promise<bigint | null> {
    return this.faults.call(`${this.name} checkpoint`, () => this.projection.checkpoint());
  }

  apply(events: RecordedEvent[], checkpoint: bigint): Promise<void> {
    return this.faults.call(
      `${this.name} commit`,
      () => this.projection.apply(events, checkpoint),
      {
        write: true,
      },
    );
  }
}
