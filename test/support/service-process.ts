import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';

const ENTRY = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

/**
 * The built service as a real OS process (`node dist/src/main.js`), for tests that kill it.
 * `npm test` builds first (pretest); run `npm run build` before running such a test alone.
 */
export class ServiceProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly output: () => string,
  ) {}

  static async start(env: Record<string, string>, port: number): Promise<ServiceProcess> {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build first`);
    const child = spawn(process.execPath, [ENTRY], {
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const service = new ServiceProcess(child, `http://127.0.0.1:${port}`, () => output);
    await service.waitUntilReady();
    return service;
  }

  private async waitUntilReady(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.child.exitCode !== null) {
        throw new Error(`service exited with ${this.child.exitCode}:\n${this.output()}`);
      }
      try {
        const response = await request(`${this.baseUrl}/health/ready`);
        await response.body.dump();
        if (response.statusCode === 200) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`service not ready after ${timeoutMs} ms:\n${this.output()}`);
  }

  /** SIGKILL: no shutdown hook runs, whatever was in flight is cut off. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: the graceful path; resolves with the exit code. */
  async terminate(): Promise<number | null> {
    await this.signal('SIGTERM');
    return this.child.exitCode;
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}
