import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemDetails, ProblemException, ProblemKind, problem } from './problem';

interface ProblemResponse {
  problem: ProblemDetails;
  headers: Record<string, string>;
}

/**
 * A feature's domain error and the problem it answers as, its message becoming the detail. Each
 * feature declares its own; the composition root hands them to the filter, which knows no feature.
 */
export interface DomainErrorProblem {
  error: abstract new (...args: never[]) => Error;
  kind: ProblemKind;
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

export function toProblemResponse(
  error: unknown,
  domainErrors: readonly DomainErrorProblem[] = [],
): ProblemResponse {
  if (error instanceof ProblemException) {
    return { problem: error.problem, headers: error.headers };
  }
  const domainError = domainErrors.find((entry) => error instanceof entry.error);
  if (domainError && error instanceof Error) {
    return { problem: problem(domainError.kind, { detail: error.message }), headers: {} };
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

  constructor(private readonly domainErrors: readonly DomainErrorProblem[]) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const response = toProblemResponse(error, this.domainErrors);
    if (response.problem.status >= 500) {
      this.logger.error({ err: error, correlationId: request.id }, 'unhandled error');
    }
    sendProblem(http.getResponse<FastifyReply>(), request, response);
  }
}
