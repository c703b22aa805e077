import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { request } from 'undici';
import { fundAccount, type Funding } from '../../bench/support/funding';
import { createApp } from '../../src/app.factory';
import { signingSecret } from '../../src/auth/signing-key';
import { issueToken } from '../../src/auth/token-issuer';
import type { Role } from '../../src/auth/token-verifier';
import { AppConfig } from '../../src/config/app-config';
import { providerSimulatorConfigFromEnvironment } from '../../src/provider-simulator/provider-simulator.config';
import { checkAgainstContract, prepareContractCheck } from './contract-check';

/** A port nothing listens on right now, for a server that must keep it across restarts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, instead of JSON-encoding `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * The whole service on the embedded default, listening on a random loopback port over a
 * throw-away data folder, spoken to over real HTTP.
 */
export class ServiceHarness {
  private app: NestFastifyApplication | null = null;
  readonly baseUrl: string;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly env: Record<string, string>,
    private readonly logger?: pino.Logger,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  /**
   * Also starts the built-in simulator unless `env` sets PROVIDER_URL. Logs go to `logger`
   * when given, else nowhere (LOG_LEVEL silent).
   */
  static async start(
    env: Record<string, string> = {},
    logger?: pino.Logger,
  ): Promise<ServiceHarness> {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
    await prepareContractCheck();
    const harness = new ServiceHarness(dataDir, await freePort(), env, logger);
    await harness.startApp();
    return harness;
  }

  /** The port is fixed for the harness's life, so webhook URLs survive restarts. */
  get config(): AppConfig {
    return AppConfig.fromEnvironment({
      LOG_LEVEL: 'silent',
      SQLITE_POLL_INTERVAL_MS: '50',
      // Tests poll one subject from many loops at once: limits that still count every request
      // but refuse none (rate-limits.e2e.ts sets its own).
      RATE_LIMIT_PER_PRINCIPAL: '1000000',
      RATE_LIMIT_PER_ADDRESS: '1000000',
      ...this.env,
      DATA_DIR: this.dataDir,
      PORT: String(this.port),
      HOST: '127.0.0.1',
    });
  }

  async startApp(): Promise<void> {
    const config = this.config;
    this.app = await createApp(config, {
      logger: this.logger ?? pino({ level: config.logLevel }),
      simulator: providerSimulatorConfigFromEnvironment({ SIM_PORT: '0', ...this.env }),
    });
    await this.app.listen({ port: this.port, host: '127.0.0.1' });
  }

  /** Stops the service the way SIGTERM does; the data folder stays. */
  async stopApp(): Promise<void> {
    await this.app?.close();
    this.app = null;
  }

  async restart(): Promise<void> {
    await this.stopApp();
    await this.startApp();
  }

  async close(): Promise<void> {
    await this.stopApp();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async token(subject: string, roles: Role[] = [], expiresIn = '1h'): Promise<string> {
    const config = this.config;
    const secret = signingSecret(config);
    if (!secret) throw new Error('no signing secret in this configuration');
    return issueToken(config, secret, { subject, roles, expiresIn });
  }

  /**
   * Deposits for each owner and currency as an operator would, so their payments are covered
   * (GENEROUS_DEPOSIT unless an amount is given). Idempotent: funding an account again with the
   * same amount adds nothing.
   */
  async fund(...fundings: Funding[]): Promise<void> {
    const operator = await this.token('test-operator', ['operator']);
    for (const funding of fundings) await fundAccount(this.baseUrl, operator, funding);
  }

  /** Fails when the answer is not one openapi.json allows for this request (contract-check.ts). */
  async call(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await request(`${this.baseUrl}${path}`, {
      method: method as 'GET',
      headers,
      body,
    });
    const text = await response.body.text();
    const type = String(response.headers['content-type'] ?? '');
    const received: HttpResponse = {
      status: response.statusCode,
      headers: response.headers,
      text,
      body: text && type.includes('json') ? (JSON.parse(text) as unknown) : undefined,
    };
    // A worker instance serves no API (every route but /health and /metrics is a 404 by
    // design): the contract describes the API roles only.
    if (this.config.role !== 'worker') await checkAgainstContract(method, path, received);
    return received;
  }
}
