import { Logger } from '@nestjs/common';
import { EventStore, RecordedEvent, Subscription } from '../event-store/event-store.port';

/** The global timer (not node:timers/promises), so that a simulation's virtual clock drives it. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A read-model projection: applies a batch of `$all` and stores it with the checkpoint. */
export interface Projection {
  readonly name: string;
  checkpoint(): Promise<bigint | null>;
  /** Must store the batch's effect and `checkpoint` atomically. */
  apply(events: RecordedEvent[], checkpoint: bigint): Promise<void>;
}

interface Waiter {
  position: bigint;
  resolve: (caughtUp: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * Why a projection stopped: the first event it could not apply, named so that an operator can
 * find it (`npm run audit -- history`, the audit API) without reading the code.
 */
export class ProjectionFailure extends Error {
  constructor(
    readonly projection: string,
    readonly event: Pick<RecordedEvent, 'position' | 'type' | 'streamName'>,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `projection ${projection} stopped at position ${event.position} ` +
        `(${event.type} in ${event.streamName}): ${reason}`,
      { cause },
    );
    this.name = 'ProjectionFailure';
  }
}

const BATCH_SIZE = 1000;
/**
 * After a partial batch the runner waits this long before taking the next, so that under load
 * it commits a few large batches instead of one per group commit of the event store
 * (bench:accept). Reads waiting for their own writes wait at most this much longer.
 */
const PARTIAL_BATCH_PAUSE_MS = 10;

/**
 * Feeds one projection from `$all`, starting after its stored checkpoint. Every event is
 * offered to the projection (which ignores what it does not need) so the checkpoint always
 * reaches the head of `$all` and readers can wait for "caught up to position X".
 */
export class ProjectionRunner {
  private readonly logger: Logger;
  private subscription: Subscription | null = null;
  private position: bigint = 0n;
  private waiters: Waiter[] = [];
  private failure: Error | null = null;

  constructor(
    private readonly eventStore: EventStore,
    private readonly projection: Projection,
  ) {
    this.logger = new Logger(`Projection:${projection.name}`);
  }

  get name(): string {
    return this.projection.name;
  }

  get checkpoint(): bigint {
    return this.position;
  }

  get error(): Error | null {
    return this.failure;
  }

  async start(): Promise<void> {
    this.position = (await this.projection.checkpoint()) ?? 0n;
    const subscription = this.eventStore.subscribeToAll(
      { after: this.position, maxBatchSize: BATCH_SIZE },
      async (events) => {
        const last = events.at(-1);
        if (!last) return;
        await this.applyBatch(events, last.position);
        this.position = last.position;
        this.wakeWaiters();
        if (events.length < BATCH_SIZE) await pause(PARTIAL_BATCH_PAUSE_MS);
      },
    );
    this.subscription = subscription;
    subscription.done.catch((error: unknown) => {
      this.failure = error instanceof Error ? error : new Error(String(error));
      const failed = error instanceof ProjectionFailure ? error.event : null;
      this.logger.error(
        {
          err: this.failure,
          projection: this.projection.name,
          checkpoint: this.position.toString(),
          eventPosition: failed?.position.toString(),
          eventType: failed?.type,
          streamName: failed?.streamName,
        },
        this.failure.message,
      );
    });
  }

  /** Resolves true once every event up to `position` is applied, false after `timeoutMs`. */
  waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters = [];
  }

  /**
   * A failed batch is applied again one event at a time, so that the events before the bad one
   * are kept and the error names the exact event. Nothing after it is applied: the subscription
   * stops and the projection stays at the last good event until the cause is fixed.
   */
  private async applyBatch(events: RecordedEvent[], checkpoint: bigint): Promise<void> {
    try {
      await this.projection.apply(events, checkpoint);
      return;
    } catch (batchError) {
      if (events.length === 1) throw new ProjectionFailure(this.name, events[0], batchError);
    }
    for (const event of events) {
      try {
        await this.projection.apply([event], event.position);
      } catch (error) {
        throw new ProjectionFailure(this.name, event, error);
      }
      this.position = event.position;
      this.wakeWaiters();
    }
  }

  private wakeWaiters(): void {
    const [ready, waiting] = partition(this.waiters, (w) => w.position <= this.position);
    this.waiters = waiting;
    for (const waiter of ready) {
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
  }
}

function partition<T>(items: T[], predicate: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (predicate(item) ? yes : no).push(item);
  return [yes, no];
}
