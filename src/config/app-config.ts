import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Every setting the service reads, parsed and validated once at start-up. A bad value stops the
 * process with a message naming the variable and what it allows (see ConfigError).
 */
const durationMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Secrets that rotate: a comma-separated list, newest first. The newest signs what this service
 * hands out; every one listed is accepted, so a retiring secret keeps working until removed.
 */
const secretList = (minLength: number) =>
  z
    .string()
    .transform((value, ctx) => {
      const secrets = value.split(',');
      if (secrets.some((secret) => secret.length < minLength || secret.trim() !== secret)) {
        ctx.addIssue({
          code: 'custom',
          message: `each comma-separated secret needs ${minLength}+ characters and no spaces around it`,
        });
        return z.NEVER;
      }
      if (new Set(secrets).size !== secrets.length) {
        ctx.addIssue({ code: 'custom', message: 'a secret is listed twice' });
        return z.NEVER;
      }
      return secrets;
    })
    .optional();

/** Address sets proxy-addr (under fastify's trustProxy) knows by name. */
/** A hold's expiry comes this long after its transaction's reconciliation deadline. */
const HOLD_EXPIRY_MARGIN_MS = 3_600_000;

const NAMED_ADDRESS_SETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (NAMED_ADDRESS_SETS.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/**
 * Which peers may tell us the client's address (X-Forwarded-For): a hop count, or the proxies'
 * addresses and ranges. Never "every peer": then any client could name its own address and
 * escape its per-address limit.
 */
const trustedProxies = z
  .string()
  .transform((value, ctx): number | string[] => {
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops >= 1 && hops <= 16) return hops;
    } else {
      const entries = value.split(',').map((entry) => entry.trim());
      if (entries.every(isAddressOrRange)) return entries;
    }
    ctx.addIssue({
      code: 'custom',
      message:
        'a hop count (1 to 16), or comma-separated proxy addresses, CIDR ranges or loopback/linklocal/uniquelocal',
    });
    return z.NEVER;
  })
  .optional();

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * `api` serves HTTP (and keeps its read model up to date), `worker` runs the process manager
   * (planner and scheduled work) behind health and metrics only, `both` does everything.
   */
  SERVICE_ROLE: z.enum(['api', 'worker', 'both']).default('both'),
  /** Loopback by default, so a laptop does not serve its network; the image sets 0.0.0.0. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Unset: the client address is the connection's peer, and X-Forwarded-For is ignored. */
  TRUST_PROXY: trustedProxies,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('./data'),
  EVENT_STORE: z.enum(['sqlite', 'eventstoredb']).default('sqlite'),
  /** Read model, timers, leases and the provider budget live together in this store. */
  READ_MODEL: z.enum(['sqlite', 'mongodb']).default('sqlite'),
  /** e.g. `esdb://eventstore:2113?tls=false`; required when EVENT_STORE=eventstoredb. */
  EVENTSTOREDB_CONNECTION_STRING: z
    .string()
    .regex(/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover):\/\/\S+$/, {
      message: 'must be an esdb:// (or kurrentdb://) connection string',
    })
    .optional(),
  /** e.g. `mongodb://mongo:27017/?replicaSet=rs0`; required when READ_MODEL=mongodb. */
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'must be a mongodb:// connection string' })
    .optional(),
  MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, { message: 'letters, digits, _ and -, at most 63' })
    .default('payment_ledger'),
  /** How often a SQLite subscription looks for events appended by another process. */
  SQLITE_POLL_INTERVAL_MS: durationMs(200),
  /** HS256 secrets, newest first (see secretList). */
  AUTH_JWT_SECRET: secretList(32),
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().min(1).default('payment-ledger'),
  AUTH_AUDIENCE: z.string().min(1).default('payment-ledger-api'),
  MAX_AMOUNT_MINOR: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .default(100_000_000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(16_384),
  SHUTDOWN_TIMEOUT_MS: durationMs(10_000),
  /** How long a query waits for the read model to include writes made before it arrived. */
  READ_CONSISTENCY_TIMEOUT_MS: durationMs(2_000),
  /** Longest `Prefer: wait=N` honoured, in seconds. */
  MAX_WAIT_SECONDS: z.coerce.number().int().min(0).max(120).default(30),

  /** Base URL of the payment provider; unset starts the built-in simulator. */
  PROVIDER_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** This service's URL as the provider reaches it, for webhook URLs. */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  PROVIDER_SUBMIT_TIMEOUT_MS: durationMs(35_000),
  PROVIDER_STATUS_TIMEOUT_MS: durationMs(5_000),
  PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(5).default(2),
  PROVIDER_GATEWAY_TIMEOUT_MS: durationMs(30_000),
  PROVIDER_LATE_WINDOW_MS: durationMs(120_000),
  PROVIDER_LATE_WINDOW_MARGIN_MS: durationMs(15_000),
  PROVIDER_SEND_WINDOW_MS: durationMs(5_000),
  STATUS_CHECK_BASE_DELAY_MS: durationMs(5_000),
  STATUS_CHECK_MAX_DELAY_MS: durationMs(60_000),
  /** Status checks per second shared by every instance on the same store. */
  STATUS_CHECK_RATE: z.coerce.number().positive().max(1000).default(2),
  STATUS_CHECK_MIN_RATE: z.coerce.number().positive().max(1000).default(0.2),
  /** Pause after a 429 that carries no Retry-After. */
  STATUS_CHECK_DEFAULT_BACKOFF_MS: durationMs(10_000),
  RECONCILIATION_DEADLINE_MS: durationMs(900_000),
  /** Support's queue also lists PENDING transactions requested longer ago than this. */
  RECONCILIATION_PENDING_AGE_MS: durationMs(600_000),
  /** Secrets for the per-transaction webhook URL tokens (HMAC), newest first; generated outside production. */
  WEBHOOK_SECRET: secretList(32),
  /** Standard Webhooks secrets (whsec_...) of a provider that signs its webhooks, newest first. */
  PROVIDER_WEBHOOK_SIGNING_SECRET: secretList(16),
  /** Where final statuses are delivered to the client backend, signed (Standard Webhooks). */
  CLIENT_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
  CLIENT_CALLBACK_SECRET: z.string().min(16).optional(),
  WORKER_LEASE_MS: durationMs(15_000),
  WORKER_POLL_INTERVAL_MS: durationMs(500),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(256),
  /**
   * Submissions in flight at once, apart from WORKER_CONCURRENCY: a submission waits up to 30 s
   * for the provider, so 500 a second answered within 10 s need 5,000. Each holds one connection
   * to the provider (a file descriptor) while it waits.
   */
  WORKER_SUBMIT_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(5_000),
  /**
   * The process manager's planner runs on one instance at a time under this lease; another
   * instance takes over at most this long after the holder dies.
   */
  PLANNER_LEASE_MS: durationMs(10_000),
  /** A step that fails unexpectedly this many times in a row is parked for support. */
  WORKER_MAX_STEP_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  /** API requests per token subject per window, across instances sharing a store; 0: no limit. */
  RATE_LIMIT_PER_PRINCIPAL: z.coerce.number().int().min(0).max(10_000_000).default(6_000),
  /** Requests per client address per window without a valid token (signed webhooks, failed sign-ins). */
  RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().min(0).max(10_000_000).default(3_000),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** How often each instance adds its counts to the shared counters and learns the totals. */
  RATE_LIMIT_SYNC_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  /** Provider health: the short window decides the state, the long one feeds expected times. */
  PROVIDER_HEALTH_SHORT_WINDOW_MS: durationMs(300_000),
  PROVIDER_HEALTH_LONG_WINDOW_MS: durationMs(3_600_000),
  /** Fewer submissions than this in the short window leave the state `normal`. */
  PROVIDER_HEALTH_MIN_SUBMISSIONS: z.coerce.number().int().min(1).default(5),
  /** `slow` from this p90 answer latency on (the reference provider answers within 10 s). */
  PROVIDER_HEALTH_SLOW_P90_MS: durationMs(15_000),
  /** `degraded` from this share of 504s plus own timeouts on (the reference share is 0.1). */
  PROVIDER_HEALTH_DEGRADED_TIMEOUT_SHARE: z.coerce.number().gt(0).max(1).default(0.3),
  /** `outage` when nothing was answered for this long while submissions went unanswered. */
  PROVIDER_HEALTH_OUTAGE_SILENCE_MS: durationMs(60_000),
  PROVIDER_HEALTH_OUTAGE_MIN_UNANSWERED: z.coerce.number().int().min(1).default(3),
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
  readonly role!: ParsedConfig['SERVICE_ROLE'];
  readonly host!: string;
  /** Fastify's trustProxy: false, a hop count, or the trusted proxies' addresses and ranges. */
  readonly trustProxy!: false | number | string[];
  readonly logLevel!: ParsedConfig['LOG_LEVEL'];
  /** Absolute path of the folder holding the embedded stores and the development secret. */
  readonly dataDir!: string;
  readonly eventStore!: ParsedConfig['EVENT_STORE'];
  readonly readModel!: ParsedConfig['READ_MODEL'];
  readonly sqlitePollIntervalMs!: number;
  readonly eventStoreDb!: { connectionString: string } | null;
  readonly mongo!: { url: string; database: string } | null;
  readonly auth!: {
    /** The newest HS256 secret: it signs development tokens. */
    jwtSecret?: string;
    /** Every HS256 secret a token may be signed with, newest first. */
    jwtSecrets: string[];
    jwksFile?: string;
    issuer: string;
    audience: string;
  };
  readonly maxAmountMinor!: number;
  readonly maxBodyBytes!: number;
  readonly shutdownTimeoutMs!: number;
  readonly readConsistencyTimeoutMs!: number;
  readonly maxWaitSeconds!: number;
  readonly provider!: {
    url?: string;
    publicBaseUrl: string;
    submitTimeoutMs: number;
    statusTimeoutMs: number;
    /** The decider's provider policy (ProviderPolicy), field for field. */
    policy: {
      maxAttempts: number;
      gatewayTimeoutMs: number;
      lateWindowMs: number;
      lateWindowMarginMs: number;
      sendWindowMs: number;
      checkBaseDelayMs: number;
      checkMaxDelayMs: number;
    };
    /** The shared status-check budget's settings (BudgetSettings) and the pause after a bare 429. */
    statusChecks: { ratePerSecond: number; minRatePerSecond: number; defaultBackoffMs: number };
    reconciliationDeadlineMs: number;
    /**
     * How long a hold waits for its transaction before the expiry check: the reconciliation
     * deadline plus an hour, so a live payment is a support case long before its hold expires.
     */
    holdTtlMs: number;
  };
  readonly webhooks!: {
    /** The newest capability-URL secret: it signs the URLs handed out from now on. */
    secret?: string;
    /** Every capability-URL secret still accepted, newest first. */
    secrets: string[];
    /** The signing provider's Standard Webhooks secrets, newest first; empty: unsigned. */
    signingSecrets: string[];
  };
  readonly clientCallback!: { url: string; secret: string } | null;
  readonly reconciliationPendingAgeMs!: number;
  readonly worker!: {
    leaseMs: number;
    pollIntervalMs: number;
    concurrency: number;
    /** Submissions in flight at once; the other kinds share `concurrency`. */
    submitConcurrency: number;
    /**
     * How long a stopping worker lets its steps in flight finish (half of SHUTDOWN_TIMEOUT_MS,
     * the rest is for closing the server and stores); the others are left to lease expiry.
     */
    shutdownDrainMs: number;
    plannerLeaseMs: number;
    maxStepFailures: number;
  };
  readonly providerHealth!: {
    shortWindowMs: number;
    longWindowMs: number;
    /** The pure state's thresholds (ProviderHealthThresholds), field for field. */
    thresholds: {
      minSubmissions: number;
      slowAnswerP90Ms: number;
      degradedTimeoutShare: number;
      outageSilenceMs: number;
      outageMinUnanswered: number;
    };
  };
  readonly rateLimits!: {
    perPrincipal: number;
    perAddress: number;
    windowMs: number;
    syncMs: number;
  };

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
    const problems: string[] = [];
    if (c.NODE_ENV === 'production' && !c.AUTH_JWT_SECRET && !c.AUTH_JWKS_FILE) {
      problems.push(
        'AUTH_JWT_SECRET or AUTH_JWKS_FILE: one is required when NODE_ENV=production (the generated development secret is refused)',
      );
    }
    if (c.NODE_ENV === 'production' && !c.WEBHOOK_SECRET) {
      problems.push('WEBHOOK_SECRET: required when NODE_ENV=production');
    }
    if (c.NODE_ENV === 'production' && !c.PROVIDER_URL) {
      problems.push(
        'PROVIDER_URL: required when NODE_ENV=production (the simulator is for development)',
      );
    }
    if (c.EVENT_STORE === 'eventstoredb' && !c.EVENTSTOREDB_CONNECTION_STRING) {
      problems.push('EVENTSTOREDB_CONNECTION_STRING: required when EVENT_STORE=eventstoredb');
    }
    if (c.EVENT_STORE === 'eventstoredb' && c.READ_MODEL !== 'mongodb') {
      problems.push(
        'READ_MODEL: must be mongodb when EVENT_STORE=eventstoredb (its positions do not fit SQLite integers, and the embedded files are for one machine)',
      );
    }
    if (c.READ_MODEL === 'mongodb' && !c.MONGODB_URL) {
      problems.push('MONGODB_URL: required when READ_MODEL=mongodb');
    }
    if (Boolean(c.CLIENT_CALLBACK_URL) !== Boolean(c.CLIENT_CALLBACK_SECRET)) {
      problems.push('CLIENT_CALLBACK_URL and CLIENT_CALLBACK_SECRET: set both or neither');
    }
    if (c.STATUS_CHECK_MIN_RATE > c.STATUS_CHECK_RATE) {
      problems.push('STATUS_CHECK_MIN_RATE: must not exceed STATUS_CHECK_RATE');
    }
    if (c.RATE_LIMIT_SYNC_MS > c.RATE_LIMIT_WINDOW_MS) {
      problems.push('RATE_LIMIT_SYNC_MS: must not exceed RATE_LIMIT_WINDOW_MS');
    }
    if (c.PROVIDER_SUBMIT_TIMEOUT_MS <= c.PROVIDER_GATEWAY_TIMEOUT_MS) {
      problems.push(
        "PROVIDER_SUBMIT_TIMEOUT_MS: must exceed PROVIDER_GATEWAY_TIMEOUT_MS so the provider's 504 arrives first",
      );
    }
    if (c.PROVIDER_HEALTH_SHORT_WINDOW_MS > c.PROVIDER_HEALTH_LONG_WINDOW_MS) {
      problems.push(
        'PROVIDER_HEALTH_SHORT_WINDOW_MS: must not exceed PROVIDER_HEALTH_LONG_WINDOW_MS',
      );
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return Object.assign(new AppConfig(), {
      nodeEnv: c.NODE_ENV,
      port: c.PORT,
      role: c.SERVICE_ROLE,
      host: c.HOST,
      trustProxy: c.TRUST_PROXY ?? false,
      logLevel: c.LOG_LEVEL,
      dataDir: isAbsolute(c.DATA_DIR) ? c.DATA_DIR : resolve(process.cwd(), c.DATA_DIR),
      eventStore: c.EVENT_STORE,
      readModel: c.READ_MODEL,
      sqlitePollIntervalMs: c.SQLITE_POLL_INTERVAL_MS,
      eventStoreDb: c.EVENTSTOREDB_CONNECTION_STRING
        ? { connectionString: c.EVENTSTOREDB_CONNECTION_STRING }
        : null,
      mongo: c.MONGODB_URL ? { url: c.MONGODB_URL, database: c.MONGODB_DATABASE } : null,
      auth: {
        jwtSecret: c.AUTH_JWT_SECRET?.[0],
        jwtSecrets: c.AUTH_JWT_SECRET ?? [],
        jwksFile: c.AUTH_JWKS_FILE,
        issuer: c.AUTH_ISSUER,
        audience: c.AUTH_AUDIENCE,
      },
      maxAmountMinor: c.MAX_AMOUNT_MINOR,
      maxBodyBytes: c.MAX_BODY_BYTES,
      shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
      readConsistencyTimeoutMs: c.READ_CONSISTENCY_TIMEOUT_MS,
      maxWaitSeconds: c.MAX_WAIT_SECONDS,
      provider: {
        url: c.PROVIDER_URL,
        publicBaseUrl: (c.PUBLIC_BASE_URL ?? `http://127.0.0.1:${c.PORT}`).replace(/\/$/, ''),
        submitTimeoutMs: c.PROVIDER_SUBMIT_TIMEOUT_MS,
        statusTimeoutMs: c.PROVIDER_STATUS_TIMEOUT_MS,
        policy: {
          maxAttempts: c.PROVIDER_MAX_ATTEMPTS,
          gatewayTimeoutMs: c.PROVIDER_GATEWAY_TIMEOUT_MS,
          lateWindowMs: c.PROVIDER_LATE_WINDOW_MS,
          lateWindowMarginMs: c.PROVIDER_LATE_WINDOW_MARGIN_MS,
          sendWindowMs: c.PROVIDER_SEND_WINDOW_MS,
          checkBaseDelayMs: c.STATUS_CHECK_BASE_DELAY_MS,
          checkMaxDelayMs: c.STATUS_CHECK_MAX_DELAY_MS,
        },
        statusChecks: {
          ratePerSecond: c.STATUS_CHECK_RATE,
          minRatePerSecond: c.STATUS_CHECK_MIN_RATE,
          defaultBackoffMs: c.STATUS_CHECK_DEFAULT_BACKOFF_MS,
        },
        reconciliationDeadlineMs: c.RECONCILIATION_DEADLINE_MS,
        holdTtlMs: c.RECONCILIATION_DEADLINE_MS + HOLD_EXPIRY_MARGIN_MS,
      },
      webhooks: {
        secret: c.WEBHOOK_SECRET?.[0],
        secrets: c.WEBHOOK_SECRET ?? [],
        signingSecrets: c.PROVIDER_WEBHOOK_SIGNING_SECRET ?? [],
      },
      clientCallback:
        c.CLIENT_CALLBACK_URL && c.CLIENT_CALLBACK_SECRET
          ? { url: c.CLIENT_CALLBACK_URL, secret: c.CLIENT_CALLBACK_SECRET }
          : null,
      reconciliationPendingAgeMs: c.RECONCILIATION_PENDING_AGE_MS,
      worker: {
        leaseMs: c.WORKER_LEASE_MS,
        pollIntervalMs: c.WORKER_POLL_INTERVAL_MS,
        concurrency: c.WORKER_CONCURRENCY,
        submitConcurrency: c.WORKER_SUBMIT_CONCURRENCY,
        shutdownDrainMs: Math.floor(c.SHUTDOWN_TIMEOUT_MS / 2),
        plannerLeaseMs: c.PLANNER_LEASE_MS,
        maxStepFailures: c.WORKER_MAX_STEP_FAILURES,
      },
      providerHealth: {
        shortWindowMs: c.PROVIDER_HEALTH_SHORT_WINDOW_MS,
        longWindowMs: c.PROVIDER_HEALTH_LONG_WINDOW_MS,
        thresholds: {
          minSubmissions: c.PROVIDER_HEALTH_MIN_SUBMISSIONS,
          slowAnswerP90Ms: c.PROVIDER_HEALTH_SLOW_P90_MS,
          degradedTimeoutShare: c.PROVIDER_HEALTH_DEGRADED_TIMEOUT_SHARE,
          outageSilenceMs: c.PROVIDER_HEALTH_OUTAGE_SILENCE_MS,
          outageMinUnanswered: c.PROVIDER_HEALTH_OUTAGE_MIN_UNANSWERED,
        },
      },
      rateLimits: {
        perPrincipal: c.RATE_LIMIT_PER_PRINCIPAL,
        perAddress: c.RATE_LIMIT_PER_ADDRESS,
        windowMs: c.RATE_LIMIT_WINDOW_MS,
        syncMs: c.RATE_LIMIT_SYNC_MS,
      },
    });
  }
}
