import { ServiceHarness } from '../support/service-harness';

describe('SERVICE_ROLE=worker', () => {
  let service: ServiceHarness;

  beforeAll(async () => {
    service = await ServiceHarness.start({ SERVICE_ROLE: 'worker' });
  });

  afterAll(() => service?.close());

  it('serves probes and metrics, with the planner among its projections', async () => {
    expect((await service.call('GET', '/health/live')).status).toBe(200);
    const ready = await service.call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(JSON.stringify(ready.body)).toContain('process-manager');
    expect(JSON.stringify(ready.body)).not.toContain('transaction-summaries');
    expect((await service.call('GET', '/metrics')).status).toBe(200);
  });

  it('answers every API route with a problem+json 404 naming its role', async () => {
    const token = await service.token('alice');
    for (const [method, path] of [
      ['POST', '/v1/transactions'],
      ['GET', '/v1/transactions'],
      ['GET', '/docs'],
      ['GET', '/healthz'],
    ] as const) {
      const response = await service.call(method, path, { token, body: {} });
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body).toMatchObject({
        status: 404,
        detail: expect.stringContaining('worker'),
      });
    }
  });
});
