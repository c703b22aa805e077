import rateLimit from '@fastify/rate-limit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { BEARER } from '../auth/auth.guard';
import { InvalidTokenError, TokenVerifier } from '../auth/token-verifier';
import type { AppConfig } from '../config/app-config';
import { ProblemException } from '../problem/problem';
import { CAPABILITY_ROUTE } from '../provider-webhooks/capability-url.hook';
import { CountedRequest, SyncedCallerCounts } from './synced-caller-counts';

/** Only the API is limited; probes, metrics, the OpenAPI page and the console's files are not. */
const LIMITED_ROUTES = /^\/v1\//;

const PRINCIPAL = 'principal:';

/**
 * Who a request is counted against: the subject of a valid token; for a report at a capability
 * URL, its transaction (a forged URL is refused before any counting, for one HMAC, so the URL
 * reaching here is genuine: the provider's reports are never starved by others behind the same
 * address, and the provider never retries a refused one); otherwise (signed webhooks, a missing
 * or refused token) the client address. The token is verified here, before the route's guard,
 * so that a forged token naming someone cannot spend their allowance; the verifier caches the
 * answer, so the guard's own check costs a map lookup.
 */
async function callerOf(request: FastifyRequest, verifier: TokenVerifier): Promise<string> {
  if (request.routeOptions.url === CAPABILITY_ROUTE) {
    return `${PRINCIPAL}webhook:${(request.params as { transactionId: string }).transactionId}`;
  }
  const match = BEARER.exec(request.headers.authorization ?? '');
  if (match) {
    try {
      return `${PRINCIPAL}${(await verifier.verify(match[1])).subject}`;
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
    }
  }
  return `address:${request.ip}`;
}

/**
 * Requests per caller per window (RATE_LIMIT_*), answered 429 problem+json with Retry-After
 * beyond it. Must be registered before the routes (before app.init()).
 */
export async function registerRateLimits(
  app: NestFastifyApplication,
  config: AppConfig,
): Promise<void> {
  const { perPrincipal, perAddress, windowMs } = config.rateLimits;
  const limitOf = (caller: string) => (caller.startsWith(PRINCIPAL) ? perPrincipal : perAddress);
  const verifier = app.get(TokenVerifier);
  const counts = app.get(SyncedCallerCounts);
  // The plugin constructs its store itself: a class that closes over the counts.
  class SharedCountsStore {
    incr(caller: string, callback: (error: Error | null, counted: CountedRequest) => void): void {
      callback(null, counts.count(caller));
    }

    /** Every route shares the counts: a limit is per caller, not per route. */
    child(): this {
      return this;
    }
  }
  await app.register(rateLimit, {
    global: true,
    timeWindow: windowMs,
    store: SharedCountsStore,
    keyGenerator: (request) => callerOf(request, verifier),
    allowList: (request, caller) => !LIMITED_ROUTES.test(request.url) || limitOf(caller) === 0,
    max: (_request, caller) => limitOf(caller),
    errorResponseBuilder: (_request, context) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ProblemException(
        'rateLimited',
        {
          detail: `More than ${context.max} requests in ${windowMs / 1000} s; retry after ${retryAfterSeconds} s`,
        },
        { 'Retry-After': String(retryAfterSeconds) },
      );
    },
  });
}
