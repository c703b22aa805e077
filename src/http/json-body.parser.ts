import type { RawBodyRequest } from '@nestjs/common';
import { parse as parseContentType } from 'content-type';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scan as refuseForbiddenProperties } from 'secure-json-parse';
import { ProblemException } from '../problem/problem';
import { sendProblem, toProblemResponse } from '../problem/problem.filter';
import { nestsDeeperThan } from './json-nesting';

/** Far deeper than any body the API takes (they are flat), far shallower than a stack. */
export const MAX_JSON_NESTING = 16;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A body the parser refused, carried to the preValidation hook that answers it. */
class RefusedBody {
  constructor(readonly refusal: unknown) {}
}

/**
 * The one body parser of the service: JSON in UTF-8, refused with a problem before anything
 * transforms it when it is in another charset, not UTF-8, too deep, not JSON, or names
 * `__proto__` (or `constructor.prototype`). Every other content type is a 415 from fastify.
 * The exact bytes are kept as `rawBody` for webhook signatures.
 *
 * A refusal is answered from a preValidation hook rather than by failing the parser: fastify
 * closes the connection after a parser error (in case the body was not read to its end), and
 * a reconnection per refused request would cost more than the refusal itself. Here the whole
 * body has been read, so the connection can be kept.
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit },
    (request: RawBodyRequest<FastifyRequest>, body: Buffer, done) => {
      request.rawBody = body;
      try {
        done(null, parseJsonBody(request.headers['content-type'], body));
      } catch (error) {
        done(null, new RefusedBody(error));
      }
    },
  );
  fastify.addHook('preValidation', async (request, reply) => {
    if (!(request.body instanceof RefusedBody)) return;
    sendProblem(reply, request, toProblemResponse(request.body.refusal));
    return reply;
  });
}

export function parseJsonBody(contentType: string | undefined, body: Buffer): unknown {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ProblemException('unsupportedMediaType', {
      detail: `charset=${charset} is not supported: send JSON in UTF-8`,
    });
  }
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new ProblemException('malformedBody', { detail: 'The body is not valid UTF-8' });
  }
  if (nestsDeeperThan(text, MAX_JSON_NESTING)) {
    throw new ProblemException('bodyTooDeep', {
      detail: `Arrays and objects may nest at most ${MAX_JSON_NESTING} levels deep`,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProblemException('malformedBody', { detail: (error as SyntaxError).message });
  }
  if (value !== null && typeof value === 'object') {
    try {
      refuseForbiddenProperties(value, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      throw new ProblemException('validationFailed', {
        detail: 'A property named __proto__ (or constructor.prototype) is not allowed',
      });
    }
  }
  return value;
}

/** The charset parameter in lower case, undefined when there is none. */
function charsetOf(contentType: string | undefined): string | undefined {
  try {
    return parseContentType(contentType ?? '').parameters.charset?.toLowerCase();
  } catch {
    throw new ProblemException('unsupportedMediaType', {
      detail: 'The Content-Type header is not a valid media type',
    });
  }
}
