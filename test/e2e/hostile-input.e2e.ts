import { connect } from 'node:net';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { HttpResponse, ServiceHarness, freePort } from '../support/service-harness';

const PROBLEM_PREFIX = 'urn:payment-ledger:problem:';
const DEEP_ID = `{"id":${'['.repeat(1500)}${']'.repeat(1500)},"status":"completed"}`;

function transactionBody(id: string, overrides: Record<string, unknown> = {}) {
  return { id, amount: 2500, currency: 'KES', recipient: '+254700000001', ...overrides };
}

function expectProblem(response: HttpResponse, status: number, slug: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}${slug}`, status });
}

/** Sends bytes on a fresh connection and returns what came back before the server closed it. */
async function rawExchange(port: number, bytes: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(bytes);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return Buffer.concat(chunks).toString('utf8');
}

describe('what a hostile or careless client sends', () => {
  let service: ServiceHarness;
  let alice: string;

  beforeAll(async () => {
    service = await ServiceHarness.start({
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      SERVICE_ROLE: 'api',
    });
    alice = await service.token('alice');
    // For the one payment here that must be accepted; the refused ones change nothing anyway.
    await service.fund({ owner: 'alice', currency: 'KES' });
  });

  afterAll(() => service.close());

  describe('bodies refused before anything transforms them', () => {
    it('a 1,500-deep body is a 400 problem, with or without a token', async () => {
      for (const token of [alice, undefined]) {
        const response = await service.call('POST', '/v1/transactions', {
          token,
          rawBody: DEEP_ID,
          headers: { 'content-type': 'application/json' },
        });
        expectProblem(response, 400, 'body-too-deep');
        // Refused without closing the connection: a reconnection would cost more than the refusal.
        expect(response.headers.connection).not.toBe('close');
      }
    });

    it('a forged capability URL is refused before its body is parsed', async () => {
      const forged = `/v1/provider/webhooks/${transactionIdFor('alice', 'x')}/not-the-token`;
      for (const rawBody of [DEEP_ID, '{"id": broken']) {
        const response = await service.call('POST', forged, {
          rawBody,
          headers: { 'content-type': 'application/json' },
        });
        expectProblem(response, 401, 'unauthenticated');
      }
    });

    it.each([
      ['form-encoded', 'application/x-www-form-urlencoded', 'id=x&amount=1'],
      ['UTF-16', 'application/json; charset=utf-16', '{}'],
      ['Latin-1', 'application/json; charset=latin1', '{}'],
      ['an unparsable content type', 'application/json; charset', '{}'],
    ])('a %s body is 415', async (_case, contentType, rawBody) => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        rawBody,
        headers: { 'content-type': contentType },
      });
      expectProblem(response, 415, 'unsupported-media-type');
    });

    it('a body that is not UTF-8 is a malformed body', async () => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        rawBody: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(response, 400, 'malformed-body');
    });
  });

  describe('unknown fields, whatever their name', () => {
    it.each(['constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'])(
      '%s is refused, naming the field',
      async (field) => {
        const response = await service.call('POST', '/v1/transactions', {
          token: alice,
          rawBody: JSON.stringify({ ...transactionBody(`named-${field}`), [field]: 'x' }),
          headers: { 'content-type': 'application/json' },
        });
        expectProblem(response, 400, 'validation-failed');
        expect(response.body).toMatchObject({
          errors: expect.arrayContaining([expect.objectContaining({ field })]),
        });
      },
    );

    it('__proto__ is refused', async () => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        rawBody: JSON.stringify(transactionBody('named-proto')).replace('{', '{"__proto__":{},'),
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(response, 400, 'validation-failed');
    });
  });

  describe('control and bidirectional formatting characters in free text', () => {
    it.each([
      ['a right-to-left override', 'rent \u202egnp.exe'],
      ['a first-strong isolate', 'rent \u2068x'],
      ['a left-to-right mark', 'rent\u200e'],
      ['an Arabic letter mark', 'rent\u061c'],
      ['NUL', 'rent\u0000'],
      ['BEL', 'rent\u0007'],
      ['ESC', 'rent\u001b[31m'],
      ['a newline', 'rent\nnext line'],
      ['a C1 control', 'rent\u0085'],
    ])('a note with %s is refused', async (_case, note) => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody(`note-${Math.random().toString(36).slice(2, 8)}`, { note }),
      });
      expectProblem(response, 400, 'validation-failed');
      expect(response.body).toMatchObject({
        errors: expect.arrayContaining([expect.objectContaining({ field: 'note' })]),
      });
    });

    it('a note in any script, with emoji, is accepted', async () => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('note-unicode', { note: 'kodi ya nyumba — إيجار 家賃 🏠' }),
      });
      expect(response.status).toBe(202);
    });

    it('a support resolution note with a control character is refused', async () => {
      const support = await service.token('sam', ['support']);
      const response = await service.call(
        'POST',
        `/v1/support/transactions/${transactionIdFor('alice', 'nothing')}/resolution`,
        { token: support, body: { status: 'FAILED', note: 'settled \u202ednuf' } },
      );
      expectProblem(response, 400, 'validation-failed');
    });
  });

  describe('errors of the HTTP layer are problems too', () => {
    it('a URL that does not decode is 400 malformed-url', async () => {
      const response = await service.call('GET', '/v1/transactions/%E0%A4%A', { token: alice });
      expectProblem(response, 400, 'malformed-url');
    });

    it('a path parameter longer than the router takes is 414', async () => {
      const response = await service.call('GET', `/v1/transactions/${'a'.repeat(500)}`, {
        token: alice,
      });
      expectProblem(response, 414, 'uri-too-long');
    });

    it('headers larger than Node accepts are 431', async () => {
      const response = await service.call('GET', '/health/live', {
        headers: { 'x-padding': 'a'.repeat(20_000) },
      });
      expectProblem(response, 431, 'header-fields-too-large');
    });

    it('a request that is not HTTP is 400 malformed-request', async () => {
      const answer = await rawExchange(service.port, 'HELLO / NONSENSE\r\n\r\n');
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 /);
      expect(head).toMatch(/content-type: application\/problem\+json/i);
      expect(JSON.parse(body)).toMatchObject({ type: `${PROBLEM_PREFIX}malformed-request` });
    });
  });
});
