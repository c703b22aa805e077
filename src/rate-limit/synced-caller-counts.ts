import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '../shared/clock';
import type { RateLimitCounters } from './rate-limit-counters.port';

/** One caller's requests in one window, as this instance knows them. */
interface CallerWindow {
  caller: string;
  windowStart: number;
  /** The caller's total across every instance as of the last sync, this one's included. */
  shared: number;
  /** Counted here and being added by the sync in flight. */
  syncing: number;
  /** Counted here since the last sync began. */
  unsynced: number;
}

export interface CallerCountSettings {
  windowMs: number;
  /** How often the local counts are added to the shared counters (real time). */
  syncMs: number;
  /** Callers remembered; more are forgotten least recently counted first. */
  capacity: number;
  /** The smallest limit: callers at or above it anywhere are learnt of at every sync. */
  atLeast: number;
}

/** What @fastify/rate-limit reads back after counting a request. */
export interface CountedRequest {
  current: number;
  ttl: number;
}

// Imperative shell.

/**
 * Requests per caller in fixed windows of the injected clock (aligned to multiples of the window
 * length, so that every instance counts the same window), counted in this process and added to
 * the shared counters every `syncMs`. A request is judged against the shared total as of the last
 * sync plus what this instance counted since: a map lookup on the request path, one batched write
 * per instance per sync. Across N instances a caller can go over its limit by at most what the
 * other instances let through between two syncs.
 *
 * A failing store never fails a request: the counts stay local, go with the next sync, and the
 * outage is logged once.
 */
export class SyncedCallerCounts implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RateLimits');
  private readonly windows = new Map<string, CallerWindow>();
  private readonly unsynced = new Set<CallerWindow>();
  private inFlight: Promise<void> | null = null;
  private failing = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly counters: RateLimitCounters,
    private readonly clock: Clock,
    private readonly settings: CallerCountSettings,
  ) {}

  count(caller: string): CountedRequest {
    const now = this.clock.now().getTime();
    const windowStart = this.windowAt(now);
    let window = this.windows.get(caller);
    if (window?.windowStart !== windowStart) {
      window = { caller, windowStart, shared: 0, syncing: 0, unsynced: 0 };
    }
    window.unsynced += 1;
    this.unsynced.add(window);
    this.remember(window);
    return {
      current: window.shared + window.syncing + window.unsynced,
      ttl: windowStart + this.settings.windowMs - now,
    };
  }

  /** Adds what was counted here to the shared counters and learns the totals; never rejects. */
  sync(): Promise<void> {
    this.inFlight ??= this.syncOnce().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sync(), this.settings.syncMs);
    // Stopped by onModuleDestroy; never the reason a process stays up.
    this.timer.unref();
  }

  /** Stops syncing after a last sync, so that what this instance counted still counts. */
  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sync();
  }

  private windowAt(now: number): number {
    return now - (now % this.settings.windowMs);
  }

  /** Re-inserted, so that Map order is least recently counted first. */
  private remember(window: CallerWindow): void {
    this.windows.delete(window.caller);
    this.windows.set(window.caller, window);
    if (this.windows.size > this.settings.capacity) {
      // Forgetting a caller can only let it through sooner.
      this.windows.delete(this.windows.keys().next().value!);
    }
  }

  private async syncOnce(): Promise<void> {
    const windowStart = this.windowAt(this.clock.now().getTime());
    // Counts of a window that has ended no longer matter to anyone.
    const sending = [...this.unsynced].filter((window) => window.windowStart === windowStart);
    this.unsynced.clear();
    for (const window of sending) {
      window.syncing = window.unsynced;
      window.unsynced = 0;
    }
    let totals: Map<string, number>;
    try {
      totals = await this.counters.add(
        windowStart,
        this.settings.windowMs,
        sending.map(({ caller, syncing }) => ({ caller, count: syncing })),
        this.settings.atLeast,
      );
    } catch (error) {
      for (const window of sending) {
        window.unsynced += window.syncing;
        window.syncing = 0;
        this.unsynced.add(window);
      }
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          `The shared rate-limit counters failed; counting in this instance only until they answer: ${String(error)}`,
        );
      }
      return;
    }
    if (this.failing) {
      this.failing = false;
      this.logger.log('The shared rate-limit counters answer again');
    }
    for (const window of sending) {
      window.shared = totals.get(window.caller) ?? window.shared + window.syncing;
      window.syncing = 0;
      totals.delete(window.caller);
    }
    // Callers near their limit through other instances.
    for (const [caller, total] of totals) {
      const known = this.windows.get(caller);
      if (known === undefined || known.windowStart < windowStart) {
        this.remember({ caller, windowStart, shared: total, syncing: 0, unsynced: 0 });
      } else if (known.windowStart === windowStart) {
        known.shared = total;
      }
    }
  }
}
