import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';

/** How often the event loop is sampled; each sample counts this tick in, so it is taken off. */
export const EVENT_LOOP_RESOLUTION_MS = 10;
/** Figures describe the last whole window: recent enough to act on, long enough to hold a p99. */
export const EVENT_LOOP_WINDOW_MS = 10_000;

/** How late the event loop ran timers, beyond the sampling tick, in milliseconds. */
export interface EventLoopDelay {
  windowSeconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The service's own event-loop delay for readiness. /metrics has prom-client's
 * nodejs_eventloop_lag_* gauges, but those cover the time since the previous scrape and keep the
 * 10 ms tick in every figure; readiness needs a figure that does not depend on who scraped when.
 */
@Injectable()
export class EventLoopMonitor implements OnModuleInit, OnModuleDestroy {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({
    resolution: EVENT_LOOP_RESOLUTION_MS,
  });
  private windowStartedAt = performance.now();
  private lastWindow: EventLoopDelay | null = null;
  private timer: NodeJS.Timeout | undefined;

  onModuleInit(): void {
    this.histogram.enable();
    this.windowStartedAt = performance.now();
    // unref: the sampler never keeps a stopping process alive.
    this.timer = setInterval(() => this.closeWindow(), EVENT_LOOP_WINDOW_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  /** The last whole window; before the first one ends, the window so far. */
  report(): EventLoopDelay {
    return this.lastWindow ?? this.current();
  }

  /** Ends the current window: its figures become the report and a new window starts. */
  closeWindow(): void {
    this.lastWindow = this.current();
    this.histogram.reset();
    this.windowStartedAt = performance.now();
  }

  private current(): EventLoopDelay {
    // An empty histogram reports min/max sentinels and NaN; no sample means no delay seen.
    const sampled = this.histogram.count > 0;
    const ms = (nanoseconds: number) =>
      sampled ? round(Math.max(0, nanoseconds / 1e6 - EVENT_LOOP_RESOLUTION_MS)) : 0;
    return {
      windowSeconds: round((performance.now() - this.windowStartedAt) / 1000),
      p50Ms: ms(this.histogram.percentile(50)),
      p99Ms: ms(this.histogram.percentile(99)),
      maxMs: ms(this.histogram.max),
    };
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
