import { join } from 'node:path';
import Database from 'better-sqlite3';
import { streamNameFor, transactionIdFor } from '../../src/transactions/transaction-id';
import { CURRENT_SCHEMA_VERSION } from '../../src/transactions/transaction-streams';
import { AUDIT_CLI, runCli } from '../support/cli-process';
import { ServiceHarness, freePort } from '../support/service-harness';

const PROBLEM_PREFIX = 'urn:payment-ledger:problem:';

interface AuditEvent {
  id: string;
  streamName: string;
  revision: string;
  position: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  previousHash: string | null;
  hash: string;
}

describe('audit over HTTP and the audit CLI (embedded default)', () => {
  let service: ServiceHarness;
  let alice: string;
  let supportAgent: string;
  let auditor: string;

  const transactionId = (clientId: string) => transactionIdFor('alice', clientId);
  const streamOf = (clientId: string) => streamNameFor(transactionId(clientId));

  beforeAll(async () => {
    // A provider that refuses connections: transactions stay PENDING while the process manager
    // keeps appending its checks, so the clean verify runs against a live, writing service.
    service = await ServiceHarness.start({
      PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
    });
    alice = await service.token('alice');
    supportAgent = await service.token('sam', ['support']);
    auditor = await service.token('audrey', ['auditor']);
    await service.fund({ owner: 'alice', currency: 'KES' });
    for (const clientId of ['audit-1', 'audit-2', 'audit-3']) {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: { id: clientId, amount: 2500, currency: 'KES', recipient: '+254700000001' },
        headers: { 'x-request-id': `req-${clientId}` },
      });
      expect(response.status).toBe(202);
    }
  });

  afterAll(() => service.close());

  describe('GET /v1/audit/transactions/:transactionId/events', () => {
    it('gives an auditor the raw stream in order, 64-bit numbers as strings, hashes chained', async () => {
      const response = await service.call(
        'GET',
        `/v1/audit/transactions/${transactionId('audit-1')}/events`,
        { token: auditor },
      );
      expect(response.status).toBe(200);
      const body = response.body as {
        transactionId: string;
        streamName: string;
        events: AuditEvent[];
      };
      expect(body.transactionId).toBe(transactionId('audit-1'));
      expect(body.streamName).toBe(streamOf('audit-1'));
      const [first, ...rest] = body.events;
      expect(first).toMatchObject({
        revision: '0',
        position: expect.stringMatching(/^\d+$/),
        type: 'TransactionRequested',
        data: { owner: 'alice', clientId: 'audit-1', amount: 2500, note: null },
        metadata: {
          actor: 'customer:alice',
          correlationId: 'req-audit-1',
          schemaVersion: CURRENT_SCHEMA_VERSION,
        },
        previousHash: null,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      rest.forEach((event, index) => {
        expect(event.revision).toBe(String(index + 1));
        expect(event.previousHash).toBe(body.events[index].hash);
        expect(BigInt(event.position)).toBeGreaterThan(BigInt(body.events[index].position));
      });
    });

    it('answers 404 for a transaction without events and for an id that is not one', async () => {
      const unknown = transactionIdFor('nobody', 'nothing');
      for (const id of [unknown, 'not-a-uuid']) {
        const response = await service.call('GET', `/v1/audit/transactions/${id}/events`, {
          token: auditor,
        });
        expect(response.status).toBe(404);
        expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}not-found` });
      }
    });
  });

  describe('GET /v1/audit/events', () => {
    it('pages through $all in position order until nextAfter is null', async () => {
      const seen: AuditEvent[] = [];
      let after: string | null = '0';
      while (after !== null) {
        const response = await service.call('GET', `/v1/audit/events?after=${after}&limit=2`, {
          token: auditor,
        });
        expect(response.status).toBe(200);
        const page = response.body as { events: AuditEvent[]; nextAfter: string | null };
        expect(page.events.length).toBeLessThanOrEqual(2);
        seen.push(...page.events);
        after = page.nextAfter;
      }
      const positions = seen.map((event) => BigInt(event.position));
      expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(new Set(positions).size).toBe(positions.length);
      expect(seen.filter((event) => event.type === 'TransactionRequested')).toHaveLength(3);
    });

    it('refuses a cursor that is not a position', async () => {
      for (const after of ['abc', '-1', '1'.repeat(41)]) {
        const response = await service.call('GET', `/v1/audit/events?after=${after}`, {
          token: auditor,
        });
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}validation-failed` });
      }
    });

    it('answers an empty last page for a position past every event, however large', async () => {
      for (const after of ['9223372036854775807', '9'.repeat(20), '9'.repeat(40)]) {
        const response = await service.call('GET', `/v1/audit/events?after=${after}`, {
          token: auditor,
        });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ events: [], nextAfter: null });
      }
    });
  });

  describe('roles', () => {
    const routes = () => [
      `/v1/audit/transactions/${transactionId('audit-1')}/events`,
      '/v1/audit/events',
    ];

    it('answers 401 without a token', async () => {
      for (const route of routes()) {
        const response = await service.call('GET', route);
        expect(response.status).toBe(401);
        expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}unauthenticated` });
      }
    });

    it('answers 403 problem to a customer and to support, even for their own transaction', async () => {
      for (const token of [alice, supportAgent]) {
        for (const route of routes()) {
          const response = await service.call('GET', route, { token });
          expect(response.status).toBe(403);
          expect(response.headers['content-type']).toContain('application/problem+json');
          expect(response.body).toMatchObject({ type: `${PROBLEM_PREFIX}forbidden` });
        }
      }
    });
  });

  describe('npm run audit', () => {
    it('history prints the timeline of one transaction by owner/clientId', async () => {
      const result = await runCli(AUDIT_CLI, service.dataDir, ['history', 'alice/audit-2']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(streamOf('audit-2'));
      expect(result.stdout).toMatch(
        /TransactionRequested\s+customer:alice\s+req-audit-2\s+2500 KES to \+254700000001/,
      );
      expect(result.stdout).toContain('hash chain intact');
    });

    it('verify passes on a clean store while the service keeps writing', async () => {
      const result = await runCli(AUDIT_CLI, service.dataDir, ['verify']);
      expect(result.stdout).toMatch(/audit verify: 3 streams, \d+ events .* 0 differences/);
      expect(result.code).toBe(0);
    });

    describe('on a stopped service, with tampered files', () => {
      beforeAll(() => service.stopApp());

      it('verify catches a corrupted read-model row and a row without a stream', async () => {
        const readModel = new Database(join(service.dataDir, 'read-model.sqlite'));
        try {
          readModel
            .prepare("UPDATE transaction_summaries SET status = 'SUCCEEDED' WHERE stream_name = ?")
            .run(streamOf('audit-2'));
          // A copy of a real row under a stream name that has no events (every column copied,
          // so this keeps working as the read model grows columns).
          readModel
            .prepare(
              'CREATE TEMP TABLE ghost AS SELECT * FROM transaction_summaries WHERE stream_name = ?',
            )
            .run(streamOf('audit-3'));
          readModel.exec(`
            UPDATE ghost SET stream_name = 'transaction-ghost', owner = 'ghost';
            INSERT INTO transaction_summaries SELECT * FROM ghost;
          `);

          const result = await runCli(AUDIT_CLI, service.dataDir, ['verify']);

          expect(result.code).toBe(1);
          expect(result.stdout).toContain('2 differences');
          expect(result.stdout).toContain(
            `${streamOf('audit-2')}  status: expected "PENDING", actual "SUCCEEDED"`,
          );
          expect(result.stdout).toContain(
            'transaction-ghost  row: expected null, actual "a row without events"',
          );
        } finally {
          readModel
            .prepare("UPDATE transaction_summaries SET status = 'PENDING' WHERE stream_name = ?")
            .run(streamOf('audit-2'));
          readModel
            .prepare("DELETE FROM transaction_summaries WHERE stream_name = 'transaction-ghost'")
            .run();
          readModel.close();
        }
        expect((await runCli(AUDIT_CLI, service.dataDir, ['verify'])).code).toBe(0);
      });

      it("verify catches an account balance in the read model that is not the fold of the account's events", async () => {
        const accounts = new Database(join(service.dataDir, 'account-read-model.sqlite'));
        try {
          accounts
            .prepare("UPDATE account_balances SET posted = posted + 1 WHERE owner = 'alice'")
            .run();
          const result = await runCli(AUDIT_CLI, service.dataDir, ['verify']);
          expect(result.code).toBe(1);
          expect(result.stdout).toContain('1 differences');
          expect(result.stdout).toMatch(/account-\S+ {2}account balances: expected \{.*"posted":/);
        } finally {
          accounts
            .prepare("UPDATE account_balances SET posted = posted - 1 WHERE owner = 'alice'")
            .run();
          accounts.close();
        }
        expect((await runCli(AUDIT_CLI, service.dataDir, ['verify'])).code).toBe(0);
      });

      it('verify catches an event changed in the event store, naming its hash', async () => {
        const events = new Database(join(service.dataDir, 'events.sqlite'));
        try {
          events.exec('DROP TRIGGER events_are_never_updated');
          events
            .prepare(
              `UPDATE events SET data = json_set(data, '$.amount', 1)
               WHERE stream_name = ? AND revision = 0`,
            )
            .run(streamOf('audit-1'));
        } finally {
          events.close();
        }

        const result = await runCli(AUDIT_CLI, service.dataDir, ['verify']);

        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(
          new RegExp(
            `${streamOf('audit-1')}  hash@0: expected "[0-9a-f]{64}", actual "[0-9a-f]{64}"`,
          ),
        );
        expect(result.stdout).toContain(
          `${streamOf('audit-1')}  state.request.amount: expected 1, actual 2500`,
        );
      });
    });
  });
});
