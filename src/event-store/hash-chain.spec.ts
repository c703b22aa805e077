import { HashedContent, chainHash } from './hash-chain';

const content: HashedContent = {
  id: '8a4c6a2e-3f0b-4d8e-9a55-1b2c3d4e5f60',
  streamName: 'transaction-1',
  revision: 3n,
  type: 'ProviderAccepted',
  data: { attempt: 1, at: '2026-11-21T10:00:03.000Z' },
  metadata: {
    correlationId: 'req-1',
    causationId: 'req-1',
    actor: 'process-manager',
    schemaVersion: 1,
    recordedAt: '2026-11-21T10:00:03.000Z',
  },
  previousHash: 'ab'.repeat(32),
};

describe('hash chain', () => {
  it('given the same event, then the same hash, whatever the key order', () => {
    const { previousHash, ...rest } = content;
    const reordered: HashedContent = {
      previousHash,
      ...rest,
      data: { at: '2026-11-21T10:00:03.000Z', attempt: 1 },
    };
    expect(chainHash(reordered)).toBe(chainHash(content));
    expect(chainHash(content)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each<[string, Partial<HashedContent>]>([
    ['revision', { revision: 4n }],
    ['data', { data: { attempt: 2, at: '2026-11-21T10:00:03.000Z' } }],
    ['previous hash', { previousHash: 'cd'.repeat(32) }],
  ])('given a changed %s, then a different hash', (_what, change) => {
    expect(chainHash({ ...content, ...change })).not.toBe(chainHash(content));
  });

  it('refuses content with no canonical form rather than hashing nothing', () => {
    const noForm = { ...content, toJSON: () => undefined } as HashedContent;
    expect(() => chainHash(noForm)).toThrow('event content cannot be canonicalized');
  });
});
