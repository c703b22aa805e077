import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, getSchemaPath, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type {
  CallbacksObject,
  HeaderObject,
  OperationObject,
  PathItemObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { problemResponses } from '../problem/api-problems.decorator';
import { ProblemView } from '../problem/problem.view';
import { ClientCallbackView } from '../process-manager/client-callback.view';

/** Where the service serves its document (SwaggerModule.setup): the page, JSON and YAML. */
export const DOCS_PATH = 'docs';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** What @fastify/rate-limit sends on every answer of a limited (/v1) route. */
const RATE_LIMIT_HEADERS: Record<string, HeaderObject> = {
  'x-ratelimit-limit': {
    description: "The caller's allowance per window",
    schema: { type: 'integer', minimum: 0 },
  },
  'x-ratelimit-remaining': {
    description: 'Requests left in this window',
    schema: { type: 'integer', minimum: 0 },
  },
  'x-ratelimit-reset': {
    description: 'Seconds until the window ends',
    schema: { type: 'integer', minimum: 0 },
  },
};

const OPEN_DOCUMENT = (
  summary: string,
  mediaType: string,
  schema: SchemaObject,
  description: string,
): OperationObject => ({
  tags: ['operations'],
  summary,
  operationId: `Docs_${summary.replace(/\W+/g, '')}`,
  security: [],
  responses: {
    '200': { description, content: { [mediaType]: { schema } } },
    ...problemResponses([]),
  },
});

/** Routes SwaggerModule.setup registers itself, so no controller describes them. */
const DOCS_ROUTES: Record<string, PathItemObject> = {
  [`/${DOCS_PATH}`]: {
    get: OPEN_DOCUMENT('The API reference page', 'text/html', { type: 'string' }, 'Swagger UI'),
  },
  [`/${DOCS_PATH}-json`]: {
    get: OPEN_DOCUMENT(
      'This document as JSON',
      'application/json',
      { type: 'object' },
      'The OpenAPI document',
    ),
  },
  [`/${DOCS_PATH}-yaml`]: {
    get: OPEN_DOCUMENT(
      'This document as YAML',
      'text/yaml',
      { type: 'string' },
      'The OpenAPI document',
    ),
  },
};

/**
 * The signed callback the service sends the client's backend when a transaction is final
 * (ClientNotifier, Standard Webhooks): an OpenAPI 3.0 callback, since @nestjs/swagger writes 3.0
 * and its @ApiCallbacks cannot describe headers.
 */
const CLIENT_CALLBACK: CallbacksObject = {
  transactionFinalized: {
    '{$CLIENT_CALLBACK_URL}': {
      post: {
        summary: 'A transaction is final (sent to CLIENT_CALLBACK_URL, signed)',
        description:
          'Sent once per transaction when it reaches SUCCEEDED or FAILED, retried with backoff ' +
          'until a 2xx. Verify the Standard Webhooks signature with CLIENT_CALLBACK_SECRET; ' +
          'webhook-id is stable per transaction, so drop repeats by it.',
        operationId: 'ClientCallback_transactionFinalized',
        security: [],
        parameters: [
          ['webhook-id', 'Stable per transaction: msg_final_<transactionId>'],
          ['webhook-timestamp', 'Unix seconds when it was signed'],
          ['webhook-signature', 'v1,<base64 HMAC-SHA256 of id.timestamp.body>'],
        ].map(([name, description]) => ({
          name,
          in: 'header' as const,
          required: true,
          description,
          schema: { type: 'string' },
        })),
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: getSchemaPath(ClientCallbackView) } } },
        },
        responses: {
          '200': { description: 'Any 2xx acknowledges it' },
          '400': { description: 'Any other answer (or none in 10 s): delivered again later' },
        },
      },
    },
  },
};

function operationsOf(document: OpenAPIObject): [string, OperationObject][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method): [string, OperationObject][] =>
      item[method] ? [[path, item[method]]] : [],
    ),
  );
}

/**
 * What decorators cannot say, in one place: an operation with no bearer token declares
 * `security: []` (open, rather than unspecified), every answer of a rate-limited /v1 route
 * carries the rate-limit headers, the docs routes themselves, and the client callback.
 */
function completed(document: OpenAPIObject): OpenAPIObject {
  document.paths = { ...document.paths, ...DOCS_ROUTES };
  for (const [path, operation] of operationsOf(document)) {
    operation.security ??= [];
    if (!path.startsWith('/v1/')) continue;
    for (const response of Object.values(operation.responses)) {
      const answer = response as ResponseObject;
      answer.headers = { ...answer.headers, ...RATE_LIMIT_HEADERS };
    }
  }
  const requestTransaction = document.paths['/v1/transactions'].post;
  if (requestTransaction) requestTransaction.callbacks = CLIENT_CALLBACK;
  return document;
}

/** Stable text of the document: two-space JSON in the order it is built, a final newline. */
export function contractText(document: object): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The service's OpenAPI document, as served at /docs-json and committed as openapi.json. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('payment-ledger')
    .setDescription('Event-sourced payment ledger: request transactions and follow them to the end')
    .setVersion('1')
    .addServer('http://127.0.0.1:3000', 'A local instance (npm start, PORT=3000)')
    .addBearerAuth()
    .build();
  // The package is UNLICENSED: proprietary, with no licence text to link to.
  config.info.license = { name: 'Proprietary (UNLICENSED)' };
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ClientCallbackView, ProblemView],
    operationIdFactory: (controller, method) =>
      `${controller.replace(/Controller$/, '')}_${method}`,
  });
  return completed(document);
}
