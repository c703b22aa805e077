import { setImmediate as nextTurn } from 'node:timers/promises';
import { EVENT_LOOP_RESOLUTION_MS, EventLoopMonitor } from './event-loop-monitor';

/** Holds the event loop for at least `ms`, as a long synchronous task would. */
function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Lets the loop turn until the monitor has seen a delay of at least `ms` (the sampler's timer fires late). */
async function untilSeen(monitor: EventLoopMonitor, ms: number): Promise<void> {
  while (monitor.report().maxMs < ms) await nextTurn();
}

describe('EventLoopMonitor', () => {
  let monitor: EventLoopMonitor;

  beforeEach(() => {
    monitor = new EventLoopMonitor();
    monitor.onModuleInit();
  });

  afterEach(() => monitor.onModuleDestroy());

  it('reports nothing before the loop was sampled', () => {
    expect(monitor.report()).toEqual({
      windowSeconds: expect.any(Number),
      p50Ms: 0,
      p99Ms: 0,
      maxMs: 0,
    });
  });

  it('shows a blocked loop as a delay of at least the time it was blocked, less the tick', async () => {
    // Let the sampler's timer start before blocking, so the block delays it.
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_RESOLUTION_MS * 2));
    blockFor(200);
    await untilSeen(monitor, 200 - EVENT_LOOP_RESOLUTION_MS);

    const report = monitor.report();
    expect(report.maxMs).toBeGreaterThanOrEqual(200 - EVENT_LOOP_RESOLUTION_MS);
    expect(report.p99Ms).toBeLessThanOrEqual(report.maxMs);
    expect(report.p50Ms).toBeLessThanOrEqual(report.p99Ms);
  });

  it('keeps the last whole window as the report while the next one fills', async () => {
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_RESOLUTION_MS * 2));
    blockFor(200);
    await untilSeen(monitor, 200 - EVENT_LOOP_RESOLUTION_MS);
    monitor.closeWindow();
    const closed = monitor.report();

    // A quiet window under way does not hide the blocked one that just ended.
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_RESOLUTION_MS * 3));
    expect(monitor.report()).toEqual(closed);
    expect(closed.maxMs).toBeGreaterThanOrEqual(200 - EVENT_LOOP_RESOLUTION_MS);

    // Each window starts empty: one closed before any sample holds no delay at all.
    monitor.closeWindow();
    monitor.closeWindow();
    expect(monitor.report()).toMatchObject({ p50Ms: 0, p99Ms: 0, maxMs: 0 });
  });
});
