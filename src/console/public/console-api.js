// What the console's pages share: the token's place, calls to this service's API with it, and
// building DOM nodes and problem boxes (text is always set as text, never as HTML).
/* global document, fetch */

export const TOKEN_KEY = 'payment-ledger.console.token';

/** An API answer that was not 2xx, with its RFC 9457 problem details. */
export class ProblemError extends Error {
  constructor(problem, retryAfter) {
    super(problem.detail ?? problem.title);
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/** Absent children (null, undefined) are left out: the DOM would print them as text. */
export function present(children) {
  return children.filter((child) => child !== null && child !== undefined);
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...present(children));
  return node;
}

/** The JSON answer, or a ProblemError (its problem's `status` is the HTTP status). */
export async function callApi(token, path, { method = 'GET', body } = {}) {
  const headers = {
    accept: 'application/json, application/problem+json',
    authorization: `Bearer ${token}`,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ProblemError({ title: 'The service did not answer', detail: String(error) });
  }
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  const payload = isJson ? await response.json() : null;
  if (response.ok) return payload;
  throw new ProblemError(
    payload ?? { title: response.statusText, status: response.status },
    response.headers.get('retry-after'),
  );
}

export function showProblem(container, error) {
  const problem =
    error instanceof ProblemError
      ? error.problem
      : { title: 'Unexpected error in the console', detail: String(error) };
  const heading = problem.status ? `${problem.status} ${problem.title}` : problem.title;
  container.replaceChildren(
    ...present([
      element('p', {}, element('strong', {}, heading)),
      problem.detail ? element('p', {}, problem.detail) : null,
      Array.isArray(problem.errors)
        ? element(
            'ul',
            {},
            ...problem.errors.map((fieldError) =>
              element('li', {}, `${fieldError.field}: ${fieldError.message}`),
            ),
          )
        : null,
      error.retryAfter ? element('p', {}, `Retry after ${error.retryAfter} s.`) : null,
      problem.type
        ? element('p', { class: 'problem-type' }, element('code', {}, problem.type))
        : null,
    ]),
  );
  container.hidden = false;
}

export function clearProblem(container) {
  container.replaceChildren();
  container.hidden = true;
}
