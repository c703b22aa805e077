import { readFileSync } from 'node:fs';
import { contractText } from '../../src/openapi/openapi-document';
import { CONTRACT_PATH } from '../support/contract-check';
import { ServiceHarness } from '../support/service-harness';

describe('the committed contract (openapi.json)', () => {
  let service: ServiceHarness;

  beforeAll(async () => {
    service = await ServiceHarness.start();
  });

  afterAll(() => service.close());

  it("is the running service's own document, so every API change shows as a diff of it", async () => {
    const served = await service.call('GET', '/docs-json');
    expect(served.status).toBe(200);
    const committed = readFileSync(CONTRACT_PATH, 'utf8');
    const current = contractText(served.body as object);
    if (current !== committed) {
      const line = current.split('\n').findIndex((text, i) => text !== committed.split('\n')[i]);
      throw new Error(
        `openapi.json differs from the service's /docs-json from line ${line + 1} on: ` +
          'run `npm run openapi` and commit openapi.json with the change that caused it',
      );
    }
  });
});
