import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Every setting the service reads, parsed and validated once at start-up. A bad value stops the
 * process with a message naming the variable and what it allows (see ConfigError).
 */
const durationMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('./data'),
  EVENT_STORE: z.enum(['sqlite', 'eventstoredb']).default('sqlite'),
  READ_MODEL: z.enum(['sqlite', 'mongodb']).default('sqlite'),
  /** How often a SQLite subscription looks for events appended by another process. */
  SQLITE_POLL_INTERVAL_MS: durationMs(200),
  AUTH_JWT_SECRET: z.string().min(32).optional(),
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().min(1).default('payment-ledger'),
  AUTH_AUDIENCE: z.string().min(1).default('payment-ledger-api'),
  MAX_AMOUNT_MINOR: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(100_000_000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(16_384),
  SHUTDOWN_TIMEOUT_MS: durationMs(10_000),
});

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The validated configuration; also the Nest injection token for it. */
export class AppConfig {
  readonly nodeEnv!: ParsedConfig['NODE_ENV'];
  readonly port!: number;
  readonly host!: string;
  readonly logLevel!: ParsedConfig['LOG_LEVEL'];
  /** Absolute path of the folder holding the embedded stores and the development secret. */
  readonly dataDir!: string;
  readonly eventStore!: ParsedConfig['EVENT_STORE'];
  readonly readModel!: ParsedConfig['READ_MODEL'];
  readonly sqlitePollIntervalMs!: number;
  readonly auth!: {
    jwtSecret?: string;
    jwksFile?: string;
    issuer: string;
    audience: string;
  };
  readonly maxAmountMinor!: number;
  readonly maxBodyBytes!: number;
  readonly shutdownTimeoutMs!: number;

  static fromEnvironment(env: Record<string, string | undefined>): AppConfig {
    const known = Object.fromEntries(
      Object.keys(configSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
    );
    const parsed = configSchema.safeParse(known);
    if (!parsed.success) {
      throw new ConfigError(
        parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      );
    }
    const c = parsed.data;
    if (c.NODE_ENV === 'production' && !c.AUTH_JWT_SECRET && !c.AUTH_JWKS_FILE) {
      throw new ConfigError([
        'AUTH_JWT_SECRET or AUTH_JWKS_FILE: one is required when NODE_ENV=production (the generated development secret is refused)',
      ]);
    }
    return Object.assign(new AppConfig(), {
      nodeEnv: c.NODE_ENV,
      port: c.PORT,
      host: c.HOST,
      logLevel: c.LOG_LEVEL,
      dataDir: isAbsolute(c.DATA_DIR) ? c.DATA_DIR : resolve(process.cwd(), c.DATA_DIR),
      eventStore: c.EVENT_STORE,
      readModel: c.READ_MODEL,
      sqlitePollIntervalMs: c.SQLITE_POLL_INTERVAL_MS,
      auth: {
        jwtSecret: c.AUTH_JWT_SECRET,
        jwksFile: c.AUTH_JWKS_FILE,
        issuer: c.AUTH_ISSUER,
        audience: c.AUTH_AUDIENCE,
      },
      maxAmountMinor: c.MAX_AMOUNT_MINOR,
      maxBodyBytes: c.MAX_BODY_BYTES,
      shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    });
  }
}
