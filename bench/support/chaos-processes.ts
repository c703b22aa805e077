import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { LOOPBACK } from './processes';

export type InstanceState = 'down' | 'starting' | 'up' | 'paused';

/**
 * One real OS process (a service instance or the provider simulator) that the chaos run kills,
 * pauses and restarts: always on the same port and environment, so a restarted instance serves
 * the webhook URLs it handed out before. Its output goes to a log file, never to a pipe, so a
 * paused or killed process never blocks on a full pipe and the parent never waits on one.
 */
export class ChaosProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private current: InstanceState = 'down';

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logPath: string,
    private readonly readyPath: string,
  ) {}

  get baseUrl(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  get state(): InstanceState {
    return this.current;
  }

  get pid(): number | undefined {
    return this.current === 'down' ? undefined : this.child?.pid;
  }

  /** Starts the process and resolves once `readyPath` answers 200. */
  async start(readyTimeoutMs: number): Promise<void> {
    if (!existsSync(this.script)) throw new Error(`${this.script} is missing: run npm run build`);
    // A second process on the port would fail to bind, and the first would be left untracked.
    if (this.current !== 'down') throw new Error(`${this.name} is already running`);
    const log = openSync(this.logPath, 'a');
    try {
      this.child = spawn(process.execPath, [this.script], {
        env: this.env,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const child = this.child;
    this.current = 'starting';
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        if (this.child === child) this.current = 'down';
        resolve();
      });
    });
    const until = Date.now() + readyTimeoutMs;
    // What the last probe got, for the error: a refused connection, a timeout, or a 503 and why.
    let lastProbe = 'no probe answered';
    while (Date.now() < until) {
      if (this.hasExited()) throw new Error(`${this.name} exited while starting`);
      try {
        // No keep-alive: an idle socket to a process about to be killed would outlive the run.
        const response = await request(`${this.baseUrl}${this.readyPath}`, {
          reset: true,
          headersTimeout: 1_000,
          bodyTimeout: 1_000,
        });
        const text = await response.body.text();
        if (response.statusCode === 200) {
          this.current = 'up';
          return;
        }
        lastProbe = `${response.statusCode} ${text.slice(0, 500)}`;
      } catch (error) {
        // Not listening yet, or too busy to answer within the probe's timeout.
        lastProbe = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      await delay(100);
    }
    throw new Error(
      `${this.name} not ready after ${readyTimeoutMs} ms, last probe: ${lastProbe} ` +
        `(log: ${this.logPath})`,
    );
  }

  /** A method, not a field read, so the compiler does not narrow it across the awaits in start. */
  private hasExited(): boolean {
    return this.current === 'down';
  }

  /** SIGKILL: no shutdown hook runs; whatever was in flight is cut off. */
  async kill(): Promise<void> {
    if (this.current === 'down' || !this.child) return;
    this.child.kill('SIGKILL');
    // Down from now on, not from the exit event: nobody may pick it as up in between.
    this.current = 'down';
    await this.exited;
  }

  pause(): void {
    if (this.current !== 'up' || !this.child) return;
    this.child.kill('SIGSTOP');
    this.current = 'paused';
  }

  resume(): void {
    if (this.current !== 'paused' || !this.child) return;
    this.child.kill('SIGCONT');
    this.current = 'up';
  }

  /** SIGTERM (after SIGCONT, so a paused process can act on it), then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.current === 'down' || !this.child) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), delay(graceMs, false)]);
    if (!stopped) await this.kill();
  }

  /** For the synchronous exit hook: a signal to a process that may still be running. */
  killNow(): void {
    if (this.child?.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }
}
