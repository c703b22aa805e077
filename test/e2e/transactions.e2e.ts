import { join } from 'node:path';
import { SignJWT } from 'jose';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import { SystemClock } from '../../src/shared/clock';
import { streamNameFor, transactionIdFor } from '../../src/transactions/transaction-id';
import { CURRENT_SCHEMA_VERSION } from '../../src/transactions/transaction-streams';
import { ServiceHarness, freePort } from '../support/service-harness';

const PROBLEM_PREFIX = 'urn:payment-ledger:problem:';

function transactionBody(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    amount: 2500,
    currency: 'KES',
    recipient: '+254700000001',
    note: 'rent',
    ...overrides,
  };
}

describe('transactions over HTTP (embedded default)', () => {
  let service: ServiceHarness;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    // A provider that refuses connections: every transaction stays PENDING (ambiguous, checked
    // later), so these tests see exactly what the accept path wrote. The provider flow has its
    // own end-to-end suite.
    service = await ServiceHarness.start({
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
    });
    alice = await service.token('alice');
    bob = await service.token('bob');
    await service.fund(
      ...['alice', 'bob', 'carol', 'dave'].map((owner) => ({ owner, currency: 'KES' })),
    );
  });

  afterAll(() => service.close());

  /** The stream as a second process reads it straight from the SQLite file. */
  async function streamOf(owner: string, clientId: string) {
    const store = new SqliteEventStore({
      path: join(service.dataDir, 'events.sqlite'),
      clock: new SystemClock(),
    });
    try {
      return await store.readStream(streamNameFor(transactionIdFor(owner, clientId)));
    } finally {
      await store.close();
    }
  }

  /** What clients caused: the process manager appends its own events to the same stream. */
  async function eventsOf(owner: string, clientId: string) {
    return (await streamOf(owner, clientId)).filter((e) => e.type === 'TransactionRequested');
  }

  /** The request as a view shows it, leaving out progress the process manager makes meanwhile. */
  const requestPart = (body: unknown) => {
    const { id, amount, currency, recipient, note, createdAt } = body as Record<string, unknown>;
    return { id, amount, currency, recipient, note, createdAt };
  };

  describe('requesting a transaction', () => {
    it('answers 202 with the PENDING transaction and its Location once it is durable', async () => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('create-1'),
        headers: { 'x-request-id': 'req-create-1' },
      });
      expect(response.status).toBe(202);
      expect(response.headers.location).toBe('/v1/transactions/create-1');
      expect(response.headers['idempotent-replayed']).toBeUndefined();
      expect(response.body).toMatchObject({
        id: 'create-1',
        status: 'PENDING',
        amount: 2500,
        currency: 'KES',
        recipient: '+254700000001',
        note: 'rent',
      });
      const events = await eventsOf('alice', 'create-1');
      expect(events.map((e) => e.type)).toEqual(['TransactionRequested']);
      expect(events[0].metadata).toMatchObject({
        correlationId: 'req-create-1',
        actor: 'customer:alice',
        schemaVersion: CURRENT_SCHEMA_VERSION,
      });
      // What the process manager does about it carries the same correlation id, and each event
      // names the event that caused it.
      let stream = await streamOf('alice', 'create-1');
      for (let i = 0; i < 100 && stream.length < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        stream = await streamOf('alice', 'create-1');
      }
      // The hold is recorded with the first submission, in one append.
      for (const [index, type] of ['FundsReserved', 'ProviderSubmissionStarted'].entries()) {
        expect(stream[index + 1]).toMatchObject({
          type,
          metadata: {
            correlationId: 'req-create-1',
            causationId: stream[0].id,
            actor: 'process-manager',
          },
        });
      }
    });

    it('finds the transaction on a GET right after the 202', async () => {
      const created = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('read-after-write'),
      });
      const read = await service.call('GET', '/v1/transactions/read-after-write', { token: alice });
      expect(read.status).toBe(200);
      expect(requestPart(read.body)).toEqual(requestPart(created.body));
    });

    it('replays the same request without touching the stream', async () => {
      const first = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('replay-1'),
      });
      const second = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('replay-1'),
        headers: { 'idempotency-key': '"replay-1"' },
      });
      expect(second.status).toBe(202);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(requestPart(second.body)).toEqual(requestPart(first.body));
      expect(await eventsOf('alice', 'replay-1')).toHaveLength(1);
    });

    it('refuses the same id with a different body with 422 and changes nothing', async () => {
      await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('reuse-1'),
      });
      const reused = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('reuse-1', { amount: 9999 }),
      });
      expect(reused.status).toBe(422);
      expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(reused.body).toMatchObject({ type: `${PROBLEM_PREFIX}idempotency-key-reused` });
      const events = await eventsOf('alice', 'reuse-1');
      expect(events).toHaveLength(1);
      expect(events[0].data.amount).toBe(2500);
    });

    it('turns 50 concurrent identical requests into one stream with one event, all 2xx alike', async () => {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          service.call('POST', '/v1/transactions', {
            token: alice,
            body: transactionBody('burst-1'),
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
      expect(new Set(responses.map((r) => JSON.stringify(requestPart(r.body)))).size).toBe(1);
      expect(responses.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
      expect(await eventsOf('alice', 'burst-1')).toHaveLength(1);
    });

    it('keeps two owners using the same id apart', async () => {
      const fromAlice = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('shared-id', { amount: 100 }),
      });
      const fromBob = await service.call('POST', '/v1/transactions', {
        token: bob,
        body: transactionBody('shared-id', { amount: 200 }),
      });
      expect([fromAlice.status, fromBob.status]).toEqual([202, 202]);
      expect(fromBob.headers['idempotent-replayed']).toBeUndefined();
      const aliceView = await service.call('GET', '/v1/transactions/shared-id', { token: alice });
      const bobView = await service.call('GET', '/v1/transactions/shared-id', { token: bob });
      expect(aliceView.body).toMatchObject({ amount: 100 });
      expect(bobView.body).toMatchObject({ amount: 200 });
    });
  });

  describe('bad input: a problem+json answer and nothing changes', () => {
    const field = (name: string) =>
      expect.arrayContaining([expect.objectContaining({ field: name })]);

    it.each([
      ['missing id', { id: undefined }, 'id'],
      ['id with a space', { id: 'has space' }, 'id'],
      ['id of 65 characters', { id: 'x'.repeat(65) }, 'id'],
      ['amount zero', { amount: 0 }, 'amount'],
      ['negative amount', { amount: -5 }, 'amount'],
      ['fractional amount', { amount: 10.5 }, 'amount'],
      ['amount as a string', { amount: '100' }, 'amount'],
      ['amount over the maximum', { amount: 100_000_001 }, 'amount'],
      ['unknown currency', { currency: 'XYZ' }, 'currency'],
      ['lower-case currency', { currency: 'kes' }, 'currency'],
      ['empty recipient', { recipient: '' }, 'recipient'],
      ['recipient with spaces', { recipient: 'bob smith' }, 'recipient'],
      ['note too long', { note: 'n'.repeat(141) }, 'note'],
      ['note not a string', { note: 42 }, 'note'],
      ['an unknown field', { fee: 10 }, 'fee'],
    ])('%s → 400 naming the field', async (_case, overrides, failedField) => {
      const clientId = `bad-${failedField}-${Math.random().toString(36).slice(2, 8)}`;
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody(clientId, overrides),
      });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_PREFIX}validation-failed`,
        status: 400,
        errors: field(failedField),
      });
      expect(await eventsOf('alice', clientId)).toHaveLength(0);
    });

    it.each([
      ['a JSON array', '[1,2]'],
      ['JSON null', 'null'],
      ['a JSON string', '"hello"'],
      ['broken JSON', '{"id": "x",'],
      ['an empty body', ''],
    ])('%s → 400 problem+json', async (_case, rawBody) => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        rawBody,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('an Idempotency-Key that differs from the id → 400', async () => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('key-mismatch'),
        headers: { 'idempotency-key': 'something-else' },
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}idempotency-key-mismatch` });
      expect(await eventsOf('alice', 'key-mismatch')).toHaveLength(0);
    });

    it('an oversized body → 413', async () => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('huge', { note: 'n'.repeat(20_000) }),
      });
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}body-too-large` });
    });

    it('a non-JSON content type → 415', async () => {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        rawBody: 'id=x&amount=1',
        headers: { 'content-type': 'text/plain' },
      });
      expect(response.status).toBe(415);
      expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}unsupported-media-type` });
    });

    it('an unknown route → 404 problem+json', async () => {
      const response = await service.call('GET', '/v1/nothing-here', { token: alice });
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });

  describe('authentication', () => {
    const secret = new TextEncoder().encode('a-different-secret-that-is-long-enough!!');

    async function forged(claims: { iss?: string; aud?: string; exp?: number; key?: Uint8Array }) {
      const config = service.config;
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setIssuer(claims.iss ?? config.auth.issuer)
        .setAudience(claims.aud ?? config.auth.audience)
        .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
        .sign(claims.key ?? secret);
    }

    it.each([
      ['no token', async () => undefined],
      ['a malformed token', async () => 'not.a.jwt'],
      ['a token signed with another key', () => forged({})],
      ['an expired token', async () => service.token('alice', [], '-1m')],
    ])('%s → 401 problem+json with a challenge', async (_case, makeToken) => {
      const token = await makeToken();
      const response = await service.call('POST', '/v1/transactions', {
        token,
        body: transactionBody('auth-check'),
      });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}unauthenticated` });
      expect(await eventsOf('alice', 'auth-check')).toHaveLength(0);
    });

    it('a token from another issuer or for another audience → 401', async () => {
      const { signingSecret } = await import('../../src/auth/signing-key');
      const key = signingSecret(service.config)!;
      for (const token of [
        await forged({ iss: 'evil', key }),
        await forged({ aud: 'other', key }),
      ]) {
        const response = await service.call('GET', '/v1/transactions', { token });
        expect(response.status).toBe(401);
      }
    });
  });

  describe('reading', () => {
    it("another owner's transaction is not found", async () => {
      await service.call('POST', '/v1/transactions', {
        token: alice,
        body: transactionBody('private-1'),
      });
      const response = await service.call('GET', '/v1/transactions/private-1', { token: bob });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}not-found` });
    });

    it('lists only the owner’s transactions, newest first, page by page', async () => {
      const carol = await service.token('carol');
      const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const id of ids) {
        await service.call('POST', '/v1/transactions', { token: carol, body: transactionBody(id) });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
        const page = await service.call('GET', `/v1/transactions${query}`, { token: carol });
        expect(page.status).toBe(200);
        const body = page.body as { items: { id: string }[]; nextCursor: string | null };
        seen.push(...body.items.map((item) => item.id));
        cursor = body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });

    it('filters the list by status', async () => {
      const dave = await service.token('dave');
      await service.call('POST', '/v1/transactions', { token: dave, body: transactionBody('d-1') });
      const pending = await service.call('GET', '/v1/transactions?status=PENDING', { token: dave });
      const failed = await service.call('GET', '/v1/transactions?status=FAILED', { token: dave });
      expect((pending.body as { items: unknown[] }).items).toHaveLength(1);
      expect((failed.body as { items: unknown[] }).items).toHaveLength(0);
    });

    it.each([
      ['?status=LOST', 'status'],
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=ten', 'limit'],
      ['?cursor=!!', 'cursor'],
      ['?cursor=bm90LWEtbnVtYmVy', 'cursor'],
      ['?sort=asc', 'sort'],
    ])('rejects the query %s → 400 naming %s', async (query, failedField) => {
      const response = await service.call('GET', `/v1/transactions${query}`, { token: alice });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        errors: expect.arrayContaining([expect.objectContaining({ field: failedField })]),
      });
    });
  });

  describe('operations', () => {
    it('answers the probes and serves the OpenAPI document', async () => {
      expect((await service.call('GET', '/health/live')).status).toBe(200);
      const ready = await service.call('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', info: { eventStore: { status: 'up' } } });
      const docs = await service.call('GET', '/docs-json');
      expect(docs.status).toBe(200);
      expect(docs.body).toMatchObject({ paths: { '/v1/transactions': expect.any(Object) } });
    });

    it('echoes the correlation id', async () => {
      const response = await service.call('GET', '/health/live', {
        headers: { 'x-request-id': 'trace-me-1' },
      });
      expect(response.headers['x-request-id']).toBe('trace-me-1');
    });
  });

  it('keeps every transaction across a restart of the service', async () => {
    await service.call('POST', '/v1/transactions', {
      token: alice,
      body: transactionBody('survivor'),
    });
    await service.restart();
    const read = await service.call('GET', '/v1/transactions/survivor', { token: alice });
    expect(read.status).toBe(200);
    const replay = await service.call('POST', '/v1/transactions', {
      token: alice,
      body: transactionBody('survivor'),
    });
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });
});
