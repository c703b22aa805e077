import type { LoggerService } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { SIMULATION_EPOCH } from './virtual-time';

/** How many lines a run keeps: a failing seed prints the last ones. */
const KEPT_LINES = 400;

/**
 * What happened in a run, one line per step, stamped with virtual seconds since the start: the
 * workload's requests, the faults as they strike, and what the service logged as a warning or
 * error. Only the tail is kept; the event log is the full record.
 */
export class SimulationTrace {
  private readonly lines: string[] = [];

  constructor(private readonly clock: Clock) {}

  note(who: string, what: string): void {
    const seconds = ((this.clock.now().getTime() - SIMULATION_EPOCH) / 1000).toFixed(3);
    this.lines.push(`${seconds.padStart(9)}s ${who.padEnd(10)} ${what}`);
    if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
  }

  tail(count: number): string[] {
    return this.lines.slice(-count);
  }
}

/** Nest's Logger during a run: warnings and errors go to the trace, the rest nowhere. */
export class TraceLogger implements LoggerService {
  constructor(private readonly trace: SimulationTrace) {}

  log(): void {}

  warn(message: unknown, context?: string): void {
    this.trace.note(context ?? 'service', `warn ${describe(message)}`);
  }

  error(message: unknown, ...rest: unknown[]): void {
    const context = rest.at(-1);
    this.trace.note(
      typeof context === 'string' ? context : 'service',
      `error ${describe(message)}`,
    );
  }
}

function describe(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  if (typeof message === 'object' && message !== null) {
    const { err, ...rest } = message as { err?: unknown };
    const reason = err instanceof Error ? ` (${err.message})` : '';
    return `${JSON.stringify(rest, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}${reason}`;
  }
  return String(message);
}
