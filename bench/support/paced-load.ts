import { performance } from 'node:perf_hooks';
import { build as buildHistogram } from 'hdr-histogram-js';
import { Pool } from 'undici';
import type { TransactionBodies } from './load';

/**
 * Open-loop load at an even pace: request i is due at start + i / rate, whatever the service is
 * doing, and its latency counts from that due time. A request that waits for a free connection
 * (the service is slow) waits on the clock, as a customer would.
 *
 * autocannon's `overallRate` is not this: each connection sends its share of a second back to
 * back when its one-second timer fires, so every connection bursts at the start of each second
 * and the offered rate drops when answers slow down. Its coordinated-omission correction then
 * assumes an interval of 1 ms. That measures a burst of `connections` concurrent requests once a
 * second, not customers arriving at a steady rate.
 */
export interface PacedLoadOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Requests per second, evenly spaced. */
  rate: number;
  durationSeconds: number;
  bodies: TransactionBodies;
  /** Upper bound of open connections; a request beyond it waits in the pool (and on the clock). */
  maxConnections: number;
  /** A request not answered within this is counted as a timeout. */
  timeoutMs: number;
}

export interface PacedLoadOutcome {
  /** Milliseconds from each request's due time to its whole answer (2xx answers only). */
  latency: { p50: number; p99: number; max: number };
  statusCounts: Record<string, number>;
  non2xx: number;
  /** Failed requests: connection errors and timeouts. */
  errors: number;
  sent: number;
  /**
   * How late the loader itself sent (p99, ms): above a few milliseconds the loader was starved
   * of CPU and its latencies include its own delay.
   */
  sendLateP99Ms: number;
}

/** How often the pacer wakes to send what has come due. */
const TICK_MS = 1;

export async function runPacedLoad(options: PacedLoadOptions): Promise<PacedLoadOutcome> {
  const pool = new Pool(options.url, {
    connections: options.maxConnections,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const latencies = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000 });
  const late = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000 });
  const statusCounts: Record<string, number> = {};
  const headers = { 'content-type': 'application/json', ...options.headers };
  let non2xx = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();

  const send = async (dueAt: number): Promise<void> => {
    try {
      const { statusCode, body } = await pool.request({
        method: 'POST',
        path: options.path,
        headers,
        body: options.bodies.next(),
      });
      await body.dump();
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        latencies.recordValue(Math.max(1, Math.round(performance.now() - dueAt)));
      } else non2xx++;
    } catch {
      errors++;
    }
  };

  const total = Math.round(options.rate * options.durationSeconds);
  const intervalMs = 1000 / options.rate;
  const startedAt = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && startedAt + sent * intervalMs <= now) {
      const dueAt = startedAt + sent * intervalMs;
      late.recordValue(Math.max(1, Math.round(now - dueAt)));
      const request = send(dueAt);
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(inFlight);
  await pool.close();
  return {
    latency: {
      p50: latencies.getValueAtPercentile(50),
      p99: latencies.getValueAtPercentile(99),
      max: latencies.maxValue,
    },
    statusCounts,
    non2xx,
    errors,
    sent,
    sendLateP99Ms: late.getValueAtPercentile(99),
  };
}
