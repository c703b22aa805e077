import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemKind, problem } from './problem';
import { sendProblem, toProblemResponse } from './problem.filter';

/**
 * Errors fastify meets before any route runs (a URL that does not decode, a path parameter
 * longer than allowed): answered as problems, like everything else.
 */
export function answerFrameworkError(
  error: Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendProblem(reply, request, toProblemResponse(error));
}

const kindByClientErrorCode: Record<string, ProblemKind> = {
  HPE_HEADER_OVERFLOW: 'headerFieldsTooLarge',
  HPE_URI_TOO_LONG: 'uriTooLong',
  ERR_HTTP_REQUEST_TIMEOUT: 'requestTimeout',
};

/**
 * Node's HTTP parser refuses some requests before fastify sees them (headers or request line
 * too large, broken framing, too slow): this writes the problem straight on the socket, as
 * Node's and fastify's own handlers do with a plain answer, and closes it.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const details = problem(kindByClientErrorCode[error.code ?? ''] ?? 'malformedRequest');
    const body = JSON.stringify(details);
    socket.write(
      `HTTP/1.1 ${details.status} ${STATUS_CODES[details.status]}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
