/**
 * RFC 9457 problem details. Every error the API returns is one of these, with a stable `type`
 * per kind of error so that clients can branch on it.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export interface FieldError {
  field: string;
  message: string;
}

const TYPE_PREFIX = 'urn:payment-ledger:problem:';

export const problemTypes = {
  validationFailed: { slug: 'validation-failed', title: 'The request is not valid', status: 400 },
  malformedBody: {
    slug: 'malformed-body',
    title: 'The request body is not valid JSON',
    status: 400,
  },
  bodyTooDeep: {
    slug: 'body-too-deep',
    title: 'The request body nests arrays or objects too deeply',
    status: 400,
  },
  malformedUrl: { slug: 'malformed-url', title: 'The request URL is not valid', status: 400 },
  malformedRequest: {
    slug: 'malformed-request',
    title: 'The request is not valid HTTP',
    status: 400,
  },
  idempotencyKeyMismatch: {
    slug: 'idempotency-key-mismatch',
    title: 'The Idempotency-Key header does not match the transaction id',
    status: 400,
  },
  unauthenticated: { slug: 'unauthenticated', title: 'Authentication is required', status: 401 },
  forbidden: { slug: 'forbidden', title: 'Not allowed for this caller', status: 403 },
  notFound: { slug: 'not-found', title: 'Not found', status: 404 },
  methodNotAllowed: { slug: 'method-not-allowed', title: 'Method not allowed', status: 405 },
  requestTimeout: {
    slug: 'request-timeout',
    title: 'The request was not received in time',
    status: 408,
  },
  bodyTooLarge: { slug: 'body-too-large', title: 'The request body is too large', status: 413 },
  uriTooLong: { slug: 'uri-too-long', title: 'The request URL is too long', status: 414 },
  unsupportedMediaType: {
    slug: 'unsupported-media-type',
    title: 'Unsupported content type; send application/json',
    status: 415,
  },
  headerFieldsTooLarge: {
    slug: 'header-fields-too-large',
    title: 'The request headers are too large',
    status: 431,
  },
  idempotencyKeyReused: {
    slug: 'idempotency-key-reused',
    title: 'This transaction id was already used for a different request',
    status: 422,
  },
  accountIdReused: {
    slug: 'account-id-reused',
    title: 'This id was already used for a different account operation',
    status: 422,
  },
  insufficientFunds: {
    slug: 'insufficient-funds',
    title: "The account's available balance does not cover this amount",
    status: 422,
  },
  conflict: { slug: 'conflict', title: 'Conflicting concurrent update; retry', status: 409 },
  resolutionNotAllowed: {
    slug: 'resolution-not-allowed',
    title: 'Only a transaction that needs reconciliation can be resolved',
    status: 409,
  },
  tooManyRequests: { slug: 'too-many-requests', title: 'Too many requests', status: 429 },
  rateLimited: { slug: 'rate-limited', title: 'Too many requests from this caller', status: 429 },
  unavailable: { slug: 'unavailable', title: 'Temporarily unavailable; retry', status: 503 },
  internal: { slug: 'internal', title: 'Internal error', status: 500 },
} as const;

export type ProblemKind = keyof typeof problemTypes;

export function problem(
  kind: ProblemKind,
  extras: Omit<Partial<ProblemDetails>, 'type' | 'status'> = {},
): ProblemDetails {
  const { slug, title, status } = problemTypes[kind];
  return { type: `${TYPE_PREFIX}${slug}`, title, status, ...extras };
}

/** Thrown by controllers and handlers; the problem filter turns it into the response. */
export class ProblemException extends Error {
  readonly problem: ProblemDetails;

  constructor(
    kind: ProblemKind,
    extras: Omit<Partial<ProblemDetails>, 'type' | 'status'> = {},
    readonly headers: Record<string, string> = {},
  ) {
    const details = problem(kind, extras);
    super(details.detail ?? details.title);
    this.name = 'ProblemException';
    this.problem = details;
  }
}
