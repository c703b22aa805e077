import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { AUDIT_CLI, PROJECTIONS_CLI, runCli } from '../support/cli-process';
import { ServiceHarness, freePort } from '../support/service-harness';

interface ReadyBody {
  status: string;
  info?: Record<string, unknown>;
  error?: Record<string, unknown>;
  details: {
    projections: { projections: { name: string; error: string | null }[] };
    eventLoop: { status: string; delay: Record<string, number> };
    work: { status: string; backlog: Record<string, number> };
  };
}

describe('projections: metrics, failure visibility and rebuild under traffic (embedded default)', () => {
  describe('a rebuild during live traffic', () => {
    let service: ServiceHarness;
    let alice: string;

    beforeAll(async () => {
      // A provider that refuses connections: the process manager keeps appending attempts and
      // checks, so the service writes provider events as well as requests during the rebuild.
      service = await ServiceHarness.start({
        PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      });
      alice = await service.token('alice');
      await service.fund({ owner: 'alice', currency: 'KES' });
    });

    afterAll(() => service.close());

    async function requestTransaction(clientId: string, amount: number): Promise<void> {
      const response = await service.call('POST', '/v1/transactions', {
        token: alice,
        body: { id: clientId, amount, currency: 'KES', recipient: '+254700000001' },
      });
      expect(response.status).toBe(202);
    }

    it('loses nothing: every transaction is found, audit verify passes, and status shows no lag', async () => {
      const created = new Map<string, number>();
      for (let i = 0; i < 40; i++) {
        await requestTransaction(`before-${i}`, 100 + i);
        created.set(`before-${i}`, 100 + i);
      }

      let rebuilding = true;
      const traffic = (async () => {
        for (let i = 0; rebuilding || i < 20; i++) {
          await requestTransaction(`during-${i}`, 1000 + i);
          created.set(`during-${i}`, 1000 + i);
        }
      })();
      // Small commits, so that the rebuild spans many of the service's own commits.
      const rebuild = await runCli(PROJECTIONS_CLI, service.dataDir, [
        'rebuild',
        'transaction-summaries',
        '--batch-events',
        '20',
      ]);
      rebuilding = false;
      const postedDuringRebuild = created.size - 40;
      await traffic;

      expect(postedDuringRebuild).toBeGreaterThan(0);

      expect(rebuild).toMatchObject({ code: 0 });
      expect(rebuild.stdout).toMatch(/rebuild transaction-summaries: \d+ events .* swapped in/);
      for (const [clientId, amount] of created) {
        const response = await service.call('GET', `/v1/transactions/${clientId}`, {
          token: alice,
        });
        expect({ clientId, status: response.status, body: response.body }).toMatchObject({
          clientId,
          status: 200,
          body: { id: clientId, amount },
        });
      }
      const listed = await service.call('GET', '/v1/transactions?limit=100', { token: alice });
      expect((listed.body as { items: unknown[] }).items.length).toBe(Math.min(created.size, 100));

      const verify = await runCli(AUDIT_CLI, service.dataDir, ['verify']);
      expect(verify).toMatchObject({ code: 0 });
      expect(verify.stdout).toMatch(/0 differences/);

      const status = await runCli(PROJECTIONS_CLI, service.dataDir, ['status']);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^transaction-summaries\s+\d+\s+\d+\s+[\d.]+$/m);
      expect(status.stdout).toMatch(/^process-manager\s+\d+/m);
    });

    it('exposes per-projection gauges and process metrics on /metrics without a token', async () => {
      const response = await service.call('GET', '/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      for (const projection of ['transaction-summaries', 'process-manager']) {
        for (const gauge of [
          'ledger_projection_checkpoint_position',
          'ledger_projection_lag_events',
          'ledger_projection_lag_seconds',
        ]) {
          expect(response.text).toMatch(
            new RegExp(`^${gauge}\\{projection="${projection}"\\} \\d`, 'm'),
          );
        }
        expect(response.text).toContain(`ledger_projection_failed{projection="${projection}"} 0`);
      }
      expect(response.text).toMatch(/^process_cpu_user_seconds_total /m);
      // The event loop's delay since the previous scrape (prom-client's monitor, 10 ms tick included).
      expect(response.text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
      for (const kind of ['submit', 'check', 'deadline', 'notify', 'settle', 'parked']) {
        expect(response.text).toMatch(
          new RegExp(`^ledger_work_due\\{kind="${kind}"\\} \\d+$`, 'm'),
        );
      }
    });

    it('shows each projection with its lag on /health/ready', async () => {
      const response = await service.call('GET', '/health/ready');
      expect(response.status).toBe(200);
      expect((response.body as ReadyBody).details.projections.projections).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            name: 'transaction-summaries',
            checkpoint: expect.stringMatching(/^\d+$/),
            lagEvents: expect.stringMatching(/^\d+$/),
            lagSeconds: expect.any(Number),
            error: null,
          }),
        ]),
      );
      expect((response.body as ReadyBody).details.work).toEqual({
        status: 'up',
        backlog: {
          submit: expect.any(Number),
          check: expect.any(Number),
          deadline: expect.any(Number),
          notify: expect.any(Number),
          settle: expect.any(Number),
          parked: 0,
        },
      });
    });

    it("shows the event loop's delay on /health/ready without letting it decide readiness", async () => {
      const response = await service.call('GET', '/health/ready');
      expect(response.status).toBe(200);
      expect((response.body as ReadyBody).details.eventLoop).toEqual({
        status: 'up',
        delay: {
          windowSeconds: expect.any(Number),
          p50Ms: expect.any(Number),
          p99Ms: expect.any(Number),
          maxMs: expect.any(Number),
        },
      });
    });
  });

  describe('a projection hitting an event it cannot read', () => {
    let service: ServiceHarness;

    beforeAll(async () => {
      service = await ServiceHarness.start({
        PROVIDER_URL: `http://127.0.0.1:${await freePort()}`,
      });
    });

    afterAll(() => service.close());

    it('stops there, and /health/ready answers 503 naming the projection, position and type', async () => {
      // A known type whose schema version this build cannot read, written behind the store's back.
      const raw = new Database(join(service.dataDir, 'events.sqlite'));
      const { position } = raw
        .prepare(
          `INSERT INTO events (event_id, stream_name, revision, type, data, metadata, previous_hash, hash)
           VALUES (?, ?, 0, 'TransactionRequested', '{}', ?, NULL, 'tampered') RETURNING position`,
        )
        .get(
          randomUUID(),
          `transaction-${randomUUID()}`,
          JSON.stringify({ correlationId: 'x', causationId: 'x', actor: 'x', schemaVersion: 99 }),
        ) as { position: number };
      raw.close();

      let ready = await service.call('GET', '/health/ready');
      for (let i = 0; i < 100 && ready.status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ready = await service.call('GET', '/health/ready');
      }

      expect(ready.status).toBe(503);
      const projections = (ready.body as ReadyBody).details.projections.projections;
      expect(projections).toContainEqual(
        expect.objectContaining({
          name: 'transaction-summaries',
          checkpoint: String(position - 1),
          error: expect.stringContaining(
            `projection transaction-summaries stopped at position ${position} (TransactionRequested`,
          ),
        }),
      );
      const metrics = await service.call('GET', '/metrics');
      expect(metrics.text).toContain(
        'ledger_projection_failed{projection="transaction-summaries"} 1',
      );
      expect(metrics.text).toContain(
        'ledger_projection_lag_events{projection="transaction-summaries"} 1',
      );
    });
  });
});
