import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type {
  HeaderObject,
  ResponseObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ProblemKind, problem, problemTypes } from './problem';
import { ProblemView } from './problem.view';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * Any request can meet these before its route runs: a URL that does not decode or a path
 * segment over fastify's limit (fastify), a request line or headers Node's parser refuses.
 */
export const TRANSPORT_PROBLEMS = [
  'malformedUrl',
  'malformedRequest',
  'requestTimeout',
  'uriTooLong',
  'headerFieldsTooLarge',
] as const satisfies readonly ProblemKind[];

/** A route that reads a JSON body: what the body parser and the validation pipe refuse. */
export const JSON_BODY_PROBLEMS = [
  'validationFailed',
  'malformedBody',
  'bodyTooDeep',
  'bodyTooLarge',
  'unsupportedMediaType',
] as const satisfies readonly ProblemKind[];

/** A /v1 route behind a bearer token: no or a bad token, and the per-caller rate limit. */
export const CALLER_PROBLEMS = [
  'unauthenticated',
  'rateLimited',
] as const satisfies readonly ProblemKind[];

const RETRY_AFTER: HeaderObject = {
  description: 'Whole seconds to wait before retrying',
  schema: { type: 'integer', minimum: 1 },
};

/** Headers a problem of this kind carries besides Content-Type. */
const HEADERS_BY_KIND: Partial<Record<ProblemKind, Record<string, HeaderObject>>> = {
  unauthenticated: {
    'WWW-Authenticate': {
      description: 'The Bearer challenge (not sent for a refused webhook capability URL)',
      schema: { type: 'string' },
    },
  },
  insufficientFunds: {
    Location: { description: 'The FAILED transaction', schema: { type: 'string' } },
    'Idempotent-Replayed': {
      description: 'Sent (as "true") when this answers a repeat',
      schema: { type: 'string', enum: ['true'] },
    },
  },
  rateLimited: { 'Retry-After': RETRY_AFTER },
  tooManyRequests: { 'Retry-After': RETRY_AFTER },
};

/** One problem response per status, keyed by status: for a decorator or the document itself. */
export function problemResponses(kinds: readonly ProblemKind[]): Record<number, ResponseObject> {
  const byStatus = new Map<number, ProblemKind[]>();
  for (const kind of new Set<ProblemKind>([...kinds, ...TRANSPORT_PROBLEMS])) {
    const { status } = problemTypes[kind];
    byStatus.set(status, [...(byStatus.get(status) ?? []), kind]);
  }
  return Object.fromEntries(
    [...byStatus.entries()].map(([status, statusKinds]) => [
      status,
      {
        description: statusKinds.map((kind) => problemTypes[kind].slug).join(', '),
        headers: Object.fromEntries(
          statusKinds.flatMap((kind) => Object.entries(HEADERS_BY_KIND[kind] ?? {})),
        ),
        content: {
          [PROBLEM_MEDIA_TYPE]: {
            schema: {
              allOf: [
                { $ref: getSchemaPath(ProblemView) },
                {
                  type: 'object',
                  required: ['type'],
                  properties: {
                    type: { type: 'string', enum: statusKinds.map((kind) => problem(kind).type) },
                  },
                },
              ],
            },
            examples: Object.fromEntries(
              statusKinds.map((kind) => [
                problemTypes[kind].slug,
                { summary: problemTypes[kind].title, value: problem(kind) },
              ]),
            ),
          },
        },
      },
    ]),
  );
}

/**
 * The problem answers of one operation, one response per status: RFC 9457 problem details
 * whose `type` is narrowed to an enum of the kinds given (the transport problems every request
 * can meet are always added), an example of each, and the headers those kinds send.
 */
export function ApiProblems(...kinds: ProblemKind[]): MethodDecorator {
  const responses = Object.entries(problemResponses(kinds)).map(([status, response]) =>
    ApiResponse({ ...response, status: Number(status) }),
  );
  return applyDecorators(ApiExtraModels(ProblemView), ...responses);
}
