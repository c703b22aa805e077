import { performance } from 'node:perf_hooks';
import { Presets, SingleBar } from 'cli-progress';

/** What a long run reports as it goes: `done` of `total` units, at `rate` units per second. */
export interface ProgressReporter {
  update(label: string, done: number, total: number, unit: string): void;
  stop(): void;
}

const PLAIN_INTERVAL_MS = 2000;

/**
 * A cli-progress bar (events/s and ETA) when stdout is a terminal; otherwise a plain line on
 * stderr every few seconds, so that logs stay readable and stdout keeps only the report.
 */
export function progressReporter(command: string): ProgressReporter {
  return process.stdout.isTTY ? new BarReporter() : new PlainReporter(command);
}

class BarReporter implements ProgressReporter {
  private readonly bar = new SingleBar(
    {
      format: '{label} |{bar}| {percentage}% | {rate} {unit}/s | ETA {eta_formatted}',
      stream: process.stdout,
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  private label: string | null = null;
  private startedAt = 0;

  update(label: string, done: number, total: number, unit: string): void {
    if (label !== this.label) {
      // A new phase restarts the bar, so its rate and ETA are about this phase alone.
      this.bar.stop();
      this.bar.start(total, 0, { label, rate: 0, unit });
      this.label = label;
      this.startedAt = performance.now();
    }
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.bar.setTotal(total);
    this.bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
  }

  stop(): void {
    this.bar.stop();
  }
}

class PlainReporter implements ProgressReporter {
  private label: string | null = null;
  private startedAt = 0;
  private lastLineAt = 0;

  constructor(private readonly command: string) {}

  update(label: string, done: number, total: number, unit: string): void {
    const now = performance.now();
    if (label !== this.label) {
      this.label = label;
      this.startedAt = now;
      this.lastLineAt = now;
    }
    if (now - this.lastLineAt < PLAIN_INTERVAL_MS) return;
    this.lastLineAt = now;
    const rate = Math.round(done / ((now - this.startedAt) / 1000));
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    const eta = rate > 0 ? `${Math.ceil((total - done) / rate)} s` : 'unknown';
    process.stderr.write(
      `${this.command}: ${label} ${done}/${total} (${percent}%), ${rate} ${unit}/s, ETA ${eta}\n`,
    );
  }

  stop(): void {}
}
