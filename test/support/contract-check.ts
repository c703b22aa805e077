import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import addFormats from 'ajv-formats';
import OpenAPIBackend, { type Operation } from 'openapi-backend';
import type { OpenAPIV3 } from 'openapi-types';

/** The committed contract every response the harness receives is held to. */
export const CONTRACT_PATH = join(__dirname, '..', '..', 'openapi.json');

export interface ReceivedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/**
 * openapi-backend validates a response body against its `application/json` schema only; the
 * problem answers are `application/problem+json`. Its copy of the document gives each +json
 * media type's schema under `application/json` too, so that the same validator checks them;
 * which media type was sent is checked against the real document (`mediaTypeProblem`).
 */
function withJsonAliases(document: OpenAPIV3.Document): OpenAPIV3.Document {
  const copy = structuredClone(document);
  for (const item of Object.values(copy.paths)) {
    for (const operation of Object.values(item ?? {})) {
      const responses = (operation as OpenAPIV3.OperationObject).responses ?? {};
      for (const response of Object.values(responses) as OpenAPIV3.ResponseObject[]) {
        const jsonVariant = Object.keys(response.content ?? {}).find((type) =>
          type.endsWith('+json'),
        );
        if (response.content && jsonVariant && !response.content['application/json']) {
          response.content['application/json'] = response.content[jsonVariant];
        }
      }
    }
  }
  return copy;
}

interface Contract {
  document: OpenAPIV3.Document;
  api: OpenAPIBackend;
}

let contract: Promise<Contract> | undefined;

function loadContract(): Promise<Contract> {
  contract ??= (async () => {
    const document = JSON.parse(readFileSync(CONTRACT_PATH, 'utf8')) as OpenAPIV3.Document;
    const api = new OpenAPIBackend({
      definition: withJsonAliases(document),
      strict: true,
      // The document's own validity is `npm run lint:openapi`'s: not checked again here, nor
      // each schema against the meta-schema, which made compiling every validator take 10 s
      // instead of 2.6 on a loaded machine.
      quick: true,
      ajvOpts: { validateSchema: false, code: { optimize: false } },
      // date-time, uri...: checked, not ignored.
      customizeAjv: (ajv) => addFormats(ajv),
    });
    await api.init();
    // Compiled now, before a service runs: compiling when a response arrives would block the
    // in-process service's event loop, and the simulator's compressed time would run on.
    for (const operation of api.router.getOperations()) {
      api.validator.getStatusBasedResponseValidatorForOperation(operation.operationId!);
      api.validator.getResponseHeadersValidatorForOperation(operation.operationId!);
    }
    return { document, api };
  })();
  return contract;
}

/** Loads openapi.json and compiles its validators; the harness calls it before a service starts. */
export async function prepareContractCheck(): Promise<void> {
  await loadContract();
}

/** The response as the committed document says it (not the validator's aliased copy). */
function documentedResponse(
  document: OpenAPIV3.Document,
  operation: Operation,
  status: number,
): OpenAPIV3.ResponseObject | undefined {
  const item = document.paths[operation.path] as Record<string, OpenAPIV3.OperationObject>;
  const responses = item[operation.method].responses as Record<string, OpenAPIV3.ResponseObject>;
  return responses[String(status)] ?? responses[`${Math.floor(status / 100)}XX`];
}

function mediaTypeProblem(
  documented: OpenAPIV3.ResponseObject,
  response: ReceivedResponse,
): string | null {
  const sent = String(response.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  const allowed = Object.keys(documented.content ?? {});
  if (response.text === '') return null;
  if (allowed.length === 0) return `a body (${sent}) where the document says none`;
  return allowed.includes(sent) ? null : `Content-Type ${sent}, documented: ${allowed.join(', ')}`;
}

function missingHeaders(documented: OpenAPIV3.ResponseObject, response: ReceivedResponse) {
  return Object.entries(documented.headers ?? {})
    .filter(([, header]) => (header as OpenAPIV3.HeaderObject).required)
    .filter(([name]) => response.headers[name.toLowerCase()] === undefined)
    .map(([name]) => `required header ${name} missing`);
}

/**
 * With OPENAPI_RESPONSES_FILE set, one JSON line per response checked, for counting what an e2e
 * run covered (`npm run openapi:coverage` sums them).
 */
function record(entry: object): void {
  const file = process.env.OPENAPI_RESPONSES_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/**
 * Fails (throws) when the response is not one the committed contract allows for this request:
 * an undocumented status, another media type, a body or header its schema refuses, a required
 * header missing. Validation is openapi-backend's (Ajv); this only finds the operation and
 * collects the findings. A request that no documented route matches (a garbage path of the
 * hostile-input tests) is outside the document by design and only recorded.
 */
export async function checkAgainstContract(
  method: string,
  path: string,
  response: ReceivedResponse,
): Promise<void> {
  const { document, api } = await loadContract();
  const url = new URL(path, 'http://contract.invalid');
  const operation = api.router.matchOperation({
    method,
    path: url.pathname,
    query: url.search.slice(1),
    headers: {},
  });
  if (!operation) {
    record({ unrouted: `${method} ${url.pathname}`, status: response.status });
    return;
  }
  const documented = documentedResponse(document, operation, response.status);
  const findings: string[] = [];
  if (!documented) {
    findings.push(`status ${response.status} is not documented`);
  } else {
    const mediaType = mediaTypeProblem(documented, response);
    if (mediaType) findings.push(mediaType);
    if (response.body !== undefined) {
      const body = api.validator.validateResponse(response.body, operation, response.status);
      findings.push(...(body.errors ?? []).map((e) => `body${e.instancePath} ${e.message}`));
    }
    const headers = api.validator.validateResponseHeaders(response.headers, operation, {
      statusCode: response.status,
    });
    findings.push(...(headers.errors ?? []).map((e) => `header${e.instancePath} ${e.message}`));
    findings.push(...missingHeaders(documented, response));
  }
  record({ operation: operation.operationId, status: response.status, valid: !findings.length });
  if (findings.length > 0) {
    throw new Error(
      `${method} ${path} answered ${response.status}, which openapi.json (${operation.operationId}) does not allow:\n` +
        findings.map((finding) => `  - ${finding}`).join('\n') +
        `\n  body: ${response.text.slice(0, 500)}`,
    );
  }
}
