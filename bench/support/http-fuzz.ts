import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import pino from 'pino';
import { createApp } from '../../src/app.factory';
import { signingSecret } from '../../src/auth/signing-key';
import { issueToken } from '../../src/auth/token-issuer';
import type { Role } from '../../src/auth/token-verifier';
import { AppConfig } from '../../src/config/app-config';
import { EventStore } from '../../src/event-store/event-store.port';
import { CLIENT_ID_PATTERN } from '../../src/transactions/request-transaction/request-transaction.dto';
import { fundingDeposit } from './funding';

/**
 * Random requests for every route of the service (bodies, headers, paths, query strings), and
 * what must hold for each: no 5xx; every 4xx is a problem (`application/problem+json` with
 * `type`, `title`, `status`); a refused request appends no event, except a payment refused for
 * want of funds, which is recorded (its transaction FAILED, the account's refusal). Used by
 * `npm test` (a short run) and by `npm run fuzz` (as long as asked).
 */

const PROBLEM_TYPE = /^urn:payment-ledger:problem:[a-z-]+$/;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
/** Ids of transactions a fuzzed POST may create; a stream over one would stay open. */
const CREATED_ID_PREFIX = 'fz-';
/** Currencies a nearly valid transaction request pays in (each funded for every subject). */
const PAYMENT_CURRENCIES = ['KES', 'USD'] as const;
/**
 * What each subject is funded with: `npm run fuzz` may accept tens of thousands of payments of
 * up to 10^8 minor units, and a payment refused for want of funds appends its refusal.
 */
const FUZZ_DEPOSIT = 10 ** 15;

/** Insufficient funds is the one refusal the ledger records, by design (README, Accounts). */
function isRecordedRefusal(body: string): boolean {
  try {
    const { type } = JSON.parse(body) as { type?: unknown };
    return type === 'urn:payment-ledger:problem:insufficient-funds';
  } catch {
    return false;
  }
}

interface FuzzRequest {
  method: (typeof METHODS)[number];
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface FuzzStatistics {
  requests: number;
  byStatus: Map<number, number>;
  serverErrors: number;
  refusedWithStateChange: number;
}

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 40,
});
const anyText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  printable,
);
const propertyNames = fc.oneof(
  fc.constantFrom(
    'id',
    'amount',
    'currency',
    'recipient',
    'note',
    'status',
    'checkProviderFirst',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '__proto__',
    '__defineGetter__',
  ),
  fc.string({ maxLength: 12 }),
);

function pathSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/).filter((id) => !id.startsWith(CREATED_ID_PREFIX)),
    fc.uuid(),
    anyText.map(encodeURIComponent),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '%00', '%2F', 'a'.repeat(101), 'x'.repeat(3000)),
  );
}

/** A currency code, valid or not, or any path segment. */
const currencySegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('KES', 'USD', 'kes', 'XYZ', 'KESS'),
  pathSegment(),
);

const paths: fc.Arbitrary<string> = fc.oneof(
  fc.constant('/v1/transactions'),
  pathSegment().map((id) => `/v1/transactions/${id}`),
  pathSegment().map((id) => `/v1/transactions/${id}/stream`),
  fc
    .tuple(pathSegment(), pathSegment())
    .map(([id, token]) => `/v1/provider/webhooks/${id}/${token}`),
  fc.constant('/v1/provider/webhooks'),
  fc.constantFrom(
    '/v1/support/transactions',
    '/v1/support/reconciliation',
    '/v1/support/stats',
    '/v1/support/parked-work',
  ),
  pathSegment().map((id) => `/v1/support/transactions/${id}`),
  pathSegment().map((id) => `/v1/support/transactions/${id}/resolution`),
  fc
    .tuple(pathSegment(), pathSegment())
    .map(([id, kind]) => `/v1/support/parked-work/${id}/${kind}/retry`),
  pathSegment().map((id) => `/v1/audit/transactions/${id}/events`),
  fc.constantFrom('/v1/accounts/deposits', '/v1/accounts', '/v1/support/ledger/balances'),
  currencySegment.map((currency) => `/v1/accounts/${currency}/entries`),
  fc
    .tuple(pathSegment(), currencySegment)
    .map(([owner, currency]) => `/v1/accounts/${owner}/${currency}/overdraft`),
  pathSegment().map((owner) => `/v1/support/accounts/${owner}`),
  fc
    .tuple(pathSegment(), currencySegment)
    .map(([owner, currency]) => `/v1/support/accounts/${owner}/${currency}/entries`),
  fc.constant('/v1/audit/events'),
  fc.constantFrom(
    '/health/live',
    '/health/ready',
    '/metrics',
    '/docs-json',
    '/console',
    '/console/app.js',
  ),
  pathSegment().map((file) => `/console/${file}`),
  fc.array(pathSegment(), { maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
);

const queryStrings: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'limit',
          'cursor',
          'status',
          'stage',
          'owner',
          'id',
          'transactionId',
          'from',
          'to',
          'after',
          'constructor',
          '__proto__',
        ),
        anyText,
      ),
      fc.oneof(
        fc.constantFrom('1', '0', '-1', '100', '1001', 'PENDING', 'x', '', '2026-01-01T00:00:00Z'),
        anyText,
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.length === 0
      ? ''
      : `?${pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&')}`,
  );

/** A transaction request with some of its fields replaced, removed or added. */
const nearlyValidTransaction = fc
  .record({
    id: fc.oneof(
      {
        arbitrary: fc.stringMatching(/^[a-z0-9]{1,4}$/).map((id) => `${CREATED_ID_PREFIX}${id}`),
        weight: 4,
      },
      // Never a valid id: only ids with the prefix above are ever created.
      anyText.filter((id) => !CLIENT_ID_PATTERN.test(id)),
    ),
    amount: fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 100_000_000 }), weight: 4 },
      fc.double(),
      fc.integer(),
      anyText,
    ),
    currency: fc.oneof(
      { arbitrary: fc.constantFrom(...PAYMENT_CURRENCIES), weight: 4 },
      fc.constantFrom('XYZ', 'kes'),
      anyText,
    ),
    recipient: fc.oneof({ arbitrary: fc.constant('+254700000001'), weight: 4 }, anyText),
    note: fc.oneof(
      { arbitrary: fc.constantFrom('rent', 'kodi ya nyumba — إيجار 家賃 🏠'), weight: 4 },
      anyText,
      fc.constant('rent \u202egnp.exe'),
    ),
  })
  .chain((body) =>
    fc
      .dictionary(propertyNames, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 })
      .map((extra) =>
        JSON.stringify(Object.keys(extra).length % 2 === 0 ? body : { ...body, ...extra }),
      ),
  );

const bodies: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  fc.constant(undefined),
  nearlyValidTransaction,
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc.dictionary(propertyNames, fc.jsonValue({ maxDepth: 2 })).map((value) => JSON.stringify(value)),
  fc
    .integer({ min: 1, max: 3000 })
    .map((depth) => `{"id":${'['.repeat(depth)}${']'.repeat(depth)}}`),
  anyText,
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

const contentTypes = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 3 },
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/json; charset',
    'application/x-www-form-urlencoded',
    'text/plain',
    'multipart/form-data; boundary=x',
  ),
  printable,
);

/** A customer's transaction request as a client means it, body mutated or not: some are accepted. */
function transactionRequests(customerToken: string): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({ body: nearlyValidTransaction, prefer: fc.constantFrom(undefined, 'wait=1') })
    .map(({ body, prefer }) => ({
      method: 'POST' as const,
      url: '/v1/transactions',
      headers: {
        authorization: `Bearer ${customerToken}`,
        'content-type': 'application/json',
        ...(prefer ? { prefer } : {}),
      },
      body,
    }));
}

function requests(tokens: string[]): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { arbitrary: transactionRequests(tokens[0]), weight: 1 },
    { arbitrary: anyRequests(tokens), weight: 4 },
  );
}

function anyRequests(tokens: string[]): fc.Arbitrary<FuzzRequest> {
  const optional = (value: fc.Arbitrary<string>) => fc.option(value, { nil: undefined });
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: paths,
      query: queryStrings,
      body: bodies,
      authorization: optional(
        fc.oneof(fc.constantFrom(...tokens.map((token) => `Bearer ${token}`)), printable),
      ),
      contentType: optional(contentTypes),
      prefer: optional(fc.oneof(fc.constantFrom('wait=1', 'wait=0', 'wait=99999999'), printable)),
      idempotencyKey: optional(printable),
      ifNoneMatch: optional(fc.oneof(fc.constantFrom('"r0"', '"r1"', '*', 'W/"r2"'), printable)),
      requestId: optional(printable),
    })
    .map(({ method, path, query, body, ...header }) => {
      const headers: Record<string, string> = {};
      const named: [string, string | undefined][] = [
        ['authorization', header.authorization],
        ['content-type', header.contentType],
        ['prefer', header.prefer],
        ['idempotency-key', header.idempotencyKey],
        ['if-none-match', header.ifNoneMatch],
        ['x-request-id', header.requestId],
      ];
      for (const [name, value] of named) if (value !== undefined) headers[name] = value;
      const sendsBody = method !== 'GET' && method !== 'HEAD' && body !== undefined;
      return { method, url: `${path}${query}`, headers, body: sendsBody ? body : undefined };
    });
}

/** The service on the embedded default in a throw-away folder, API role: nothing appends on its own. */
export class FuzzTarget {
  private constructor(
    readonly app: NestFastifyApplication,
    private readonly eventStore: EventStore,
    readonly tokens: string[],
    private readonly dataDir: string,
  ) {}

  static async start(): Promise<FuzzTarget> {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-fuzz-'));
    const config = AppConfig.fromEnvironment({
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      SERVICE_ROLE: 'api',
      // Prefer: wait would hold answers for seconds: the fuzz needs the answer, not the wait.
      MAX_WAIT_SECONDS: '0',
      PROVIDER_URL: 'http://127.0.0.1:9',
    });
    const app = await createApp(config, { logger: pino({ level: 'silent' }) });
    await app.getHttpAdapter().getInstance().ready();
    const secret = signingSecret(config)!;
    const token = (subject: string, roles: Role[]) =>
      issueToken(config, secret, { subject, roles, expiresIn: '24h' });
    const subjects = ['fuzz-alice', 'fuzz-sam', 'fuzz-audrey', 'fuzz-olga'];
    const tokens = await Promise.all([
      token(subjects[0], []),
      token(subjects[1], ['support']),
      token(subjects[2], ['auditor']),
      token(subjects[3], ['operator']),
    ]);
    // Any of the tokens may make a payment; each is funded before the run, so a payment the fuzz
    // sends is accepted or refused for its input, never for want of money.
    for (const owner of subjects) {
      for (const currency of PAYMENT_CURRENCIES) {
        const deposit = await app
          .getHttpAdapter()
          .getInstance()
          .inject({
            method: 'POST',
            url: '/v1/accounts/deposits',
            headers: { authorization: `Bearer ${tokens[3]}` },
            payload: fundingDeposit({ owner, currency, amount: FUZZ_DEPOSIT }),
          });
        if (deposit.statusCode !== 201) throw new Error(`funding ${owner}: ${deposit.body}`);
      }
    }
    return new FuzzTarget(app, app.get(EventStore), tokens, dataDir);
  }

  async close(): Promise<void> {
    await this.app.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Sends `count` random requests, failing (with a shrunk counterexample) at the first broken rule. */
  async run(count: number, seed?: number): Promise<FuzzStatistics> {
    const statistics: FuzzStatistics = {
      requests: 0,
      byStatus: new Map(),
      serverErrors: 0,
      refusedWithStateChange: 0,
    };
    const fastify = this.app.getHttpAdapter().getInstance();
    await fc.assert(
      fc.asyncProperty(requests(this.tokens), async (request) => {
        const headBefore = await this.eventStore.headPosition();
        const response = await fastify.inject({
          method: request.method,
          url: request.url,
          headers: request.headers,
          payload: request.body,
        });
        const headAfter = await this.eventStore.headPosition();
        statistics.requests++;
        statistics.byStatus.set(
          response.statusCode,
          (statistics.byStatus.get(response.statusCode) ?? 0) + 1,
        );
        if (response.statusCode >= 500) statistics.serverErrors++;
        if (
          response.statusCode >= 400 &&
          headAfter !== headBefore &&
          !isRecordedRefusal(response.body)
        ) {
          statistics.refusedWithStateChange++;
        }
        const failure = brokenRule(request, response, headBefore, headAfter);
        if (failure)
          throw new Error(`${failure}: ${response.statusCode} ${response.body.slice(0, 300)}`);
      }),
      { numRuns: count, seed },
    );
    return statistics;
  }
}

function brokenRule(
  request: FuzzRequest,
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  headBefore: bigint,
  headAfter: bigint,
): string | null {
  const { statusCode } = response;
  if (statusCode >= 500) return 'a server error';
  if (statusCode < 400) return null;
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) {
    return 'a 4xx that is not application/problem+json';
  }
  if (headAfter !== headBefore && !isRecordedRefusal(response.body)) {
    return `a refused request appended events (head ${headBefore} → ${headAfter})`;
  }
  if (request.method === 'HEAD') return null;
  const details = JSON.parse(response.body) as Record<string, unknown>;
  if (typeof details.type !== 'string' || !PROBLEM_TYPE.test(details.type))
    return 'a problem without a stable type';
  if (typeof details.title !== 'string') return 'a problem without a title';
  if (details.status !== statusCode) return 'a problem whose status is not the answer’s';
  return null;
}
