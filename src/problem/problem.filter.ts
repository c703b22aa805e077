import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  IdempotencyKeyReusedError,
  ResolutionNotAllowedError,
  TransactionNotFoundError,
} from '../transactions/transaction.errors';
import { ConcurrentWritesError } from '../transactions/transaction-streams';
import { ProblemDetails, ProblemException, ProblemKind, problem } from './problem';

interface ProblemResponse {
  problem: ProblemDetails;
  headers: Record<string, string>;
}

const kindByStatus: Record<number, ProblemKind> = {
  400: 'validationFailed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'notFound',
  405: 'methodNotAllowed',
  408: 'requestTimeout',
  413: 'bodyTooLarge',
  414: 'uriTooLong',
  415: 'unsupportedMediaType',
  431: 'headerFieldsTooLarge',
  429: 'tooManyRequests',
  503: 'unavailable',
};

/** Fastify's own errors (body parsing, limits) carry a code and a 4xx statusCode. */
function isFastifyClientError(
  error: unknown,
): error is Error & { statusCode: number; code: string } {
  if (!(error instanceof Error)) return false;
  const { statusCode, code } = error as Error & { statusCode?: unknown; code?: unknown };
  return (
    typeof statusCode === 'number' &&
    typeof code === 'string' &&
    statusCode >= 400 &&
    statusCode < 500
  );
}

export function toProblemResponse(error: unknown): ProblemResponse {
  if (error instanceof ProblemException) {
    return { problem: error.problem, headers: error.headers };
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return { problem: problem('idempotencyKeyReused', { detail: error.message }), headers: {} };
  }
  if (error instanceof ResolutionNotAllowedError) {
    return { problem: problem('resolutionNotAllowed', { detail: error.message }), headers: {} };
  }
  if (error instanceof ConcurrentWritesError) {
    return { problem: problem('conflict', { detail: error.message }), headers: {} };
  }
  if (error instanceof TransactionNotFoundError) {
    return { problem: problem('notFound', { detail: error.message }), headers: {} };
  }
  if (isFastifyClientError(error)) {
    const kind =
      error.code === 'FST_ERR_BAD_URL'
        ? 'malformedUrl'
        : error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
          ? 'malformedBody'
          : (kindByStatus[error.statusCode] ?? 'validationFailed');
    return { problem: problem(kind, { detail: error.message }), headers: {} };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const kind = kindByStatus[status];
    if (kind) return { problem: problem(kind, { detail: error.message }), headers: {} };
  }
  return { problem: problem('internal'), headers: {} };
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  { problem: details, headers }: ProblemResponse,
): void {
  void reply
    .status(details.status)
    .headers(headers)
    .type('application/problem+json')
    .send({ ...details, instance: details.instance ?? request.url });
}

/** Turns every error that reaches Nest into application/problem+json. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const response = toProblemResponse(error);
    if (response.problem.status >= 500) {
      this.logger.error({ err: error, correlationId: request.id }, 'unhandled error');
    }
    sendProblem(http.getResponse<FastifyReply>(), request, response);
  }
}
