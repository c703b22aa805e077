import { checkAgainstContract } from '../support/contract-check';

const problemJson = { 'content-type': 'application/problem+json; charset=utf-8' };
const notFound = {
  type: 'urn:payment-ledger:problem:not-found',
  title: 'Not found',
  status: 404,
  detail: 'No transaction x for this caller',
};

/** The harness's check must refuse what the document does not allow, or it holds nothing. */
describe('checking a response against openapi.json', () => {
  beforeAll(() => {
    // Made-up responses: not part of what an e2e run covered.
    delete process.env.OPENAPI_RESPONSES_FILE;
  });

  it('accepts a documented problem answer', async () => {
    await expect(
      checkAgainstContract('GET', '/v1/transactions/x', {
        status: 404,
        headers: { ...problemJson, etag: undefined },
        body: notFound,
        text: JSON.stringify(notFound),
      }),
    ).resolves.toBeUndefined();
  });

  it('refuses a status the operation does not document', async () => {
    await expect(
      checkAgainstContract('GET', '/v1/transactions/x', {
        status: 409,
        headers: problemJson,
        body: { ...notFound, status: 409 },
        text: '{}',
      }),
    ).rejects.toThrow('status 409 is not documented');
  });

  it('refuses a problem type the operation does not list for that status', async () => {
    const body = { ...notFound, type: 'urn:payment-ledger:problem:forbidden' };
    await expect(
      checkAgainstContract('GET', '/v1/transactions/x', {
        status: 404,
        headers: problemJson,
        body,
        text: JSON.stringify(body),
      }),
    ).rejects.toThrow('body/type');
  });

  it('refuses another media type', async () => {
    await expect(
      checkAgainstContract('GET', '/v1/transactions/x', {
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: notFound,
        text: JSON.stringify(notFound),
      }),
    ).rejects.toThrow('Content-Type application/json');
  });

  it('refuses a success answer without its required header', async () => {
    await expect(
      checkAgainstContract('GET', '/v1/transactions/x', {
        status: 304,
        headers: {},
        body: undefined,
        text: '',
      }),
    ).rejects.toThrow('required header ETag missing');
  });

  it('refuses a body its schema does not allow', async () => {
    const body = { items: [{ id: 1 }], nextCursor: null };
    await expect(
      checkAgainstContract('GET', '/v1/transactions?limit=5', {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        text: JSON.stringify(body),
      }),
    ).rejects.toThrow('body/items/0');
  });
});
