import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { configSchema } from '../../src/config/app-config';

/** Every byte of benchmark traffic stays on the loopback interface. */
export const LOOPBACK = '127.0.0.1';

/**
 * This process's environment without any setting the service (or its built-in simulator, SIM_*)
 * reads: a bench decides each of those itself, so a developer's shell cannot change what is
 * measured.
 */
export function environmentWithoutSettings(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !(name in configSchema.shape) && !name.startsWith('SIM_'),
    ),
  );
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

let tasksetAvailable: boolean | undefined;

export function hasTaskset(): boolean {
  tasksetAvailable ??= spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return tasksetAvailable;
}

/** The CPUs this process may run on, as the kernel reports them (Linux only). */
export function allowedCpus(pid: number | 'self' = 'self'): string | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Moves every thread of this process to `core`. Threads started later (libuv pool) inherit the
 * mask, so autocannon never competes with the server pinned to the other core. Returns the
 * resulting CPU list, or undefined when pinning is not possible here.
 */
export function pinSelf(core: number): string | undefined {
  if (!hasTaskset()) return undefined;
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], {
    stdio: 'ignore',
  });
  return result.status === 0 ? allowedCpus() : undefined;
}

/** Asks the kernel for a free loopback port (closed again before the child binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

let clockTicks: number | undefined;

/** User + system CPU seconds of a process and all its threads (Linux /proc), if readable. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

export interface CoreTimes {
  busy: number;
  total: number;
}

/**
 * Busy and total jiffies of one CPU (Linux /proc/stat). Loopback networking runs partly in
 * softirq time charged to no server process, so this shows whether the server's core was full.
 */
export function coreTimes(core: number): CoreTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((text) => text.startsWith(`cpu${core} `));
    if (!line) return undefined;
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Share of the interval between two readings the core was busy, or null if unknown. */
export function busyShare(
  before: CoreTimes | undefined,
  after: CoreTimes | undefined,
): number | null {
  if (!before || !after || after.total <= before.total) return null;
  return (after.busy - before.busy) / (after.total - before.total);
}

/** How busy each core is over `ms`, before the bench adds load: other work skews every number. */
export async function backgroundBusy(cores: number[], ms: number): Promise<(number | null)[]> {
  const before = cores.map(coreTimes);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return cores.map((core, index) => busyShare(before[index], coreTimes(core)));
}

export interface ChildOptions {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Pins the child (and every thread it starts) to this core with taskset, when available. */
  core?: number;
  nodeArgs?: string[];
}

export interface ManagedChild {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  readonly hasExited: () => boolean;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs: number): Promise<ExitInfo & { killed: boolean }>;
}

const running = new Set<ManagedChild>();

/** Children still alive: the bench's failure paths stop them so no server outlives a run. */
export function runningChildren(): ManagedChild[] {
  return [...running];
}

/** Stops every child still running (on the way out, or when the bench is interrupted). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all(runningChildren().map((child) => child.stop(2_000)));
}

export function startChild(options: ChildOptions): ManagedChild {
  if (!existsSync(options.script)) {
    // Seen when another `nest build` (deleteOutDir) empties dist/ while the bench runs.
    throw new Error(`${options.name}: ${options.script} is missing; was dist/ rebuilt meanwhile?`);
  }
  const nodeCommand = [process.execPath, ...(options.nodeArgs ?? []), options.script];
  const pinned = options.core !== undefined && hasTaskset();
  // taskset execs node in place, so the pid we signal is the server's own.
  const [command, ...args] = pinned
    ? ['taskset', '-c', String(options.core), ...nodeCommand]
    : nodeCommand;
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${command}`);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      process.stderr.write(`[${options.name}] ${line}\n`);
    });
  }
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const managed: ManagedChild = {
    name: options.name,
    pid: child.pid,
    exited,
    hasExited: () => done,
    async stop(graceMs) {
      if (!done) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first !== 'timeout') return { ...first, killed: false };
      child.kill('SIGKILL');
      return { ...(await exited), killed: true };
    },
  };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  return managed;
}

/** Polls `url` until it answers 200; fails early if the child dies or the time runs out. */
export async function waitUntilReady(
  child: ManagedChild,
  url: string,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  let last = 'no answer yet';
  while (Date.now() - started < timeoutMs) {
    if (child.hasExited()) {
      const { code, signal } = await child.exited;
      throw new Error(`${child.name} exited before it was ready (code ${code}, signal ${signal})`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return Date.now() - started;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms (${last})`);
}
