import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { EventData, RecordedEventMetadata } from './event-store.port';

export interface HashedContent {
  id: string;
  streamName: string;
  revision: bigint;
  type: string;
  data: EventData;
  metadata: RecordedEventMetadata;
  previousHash: string | null;
}

/**
 * SHA-256 over the RFC 8785 canonical JSON of the event and the previous event's hash, so that
 * changing, removing or reordering any event of a stream breaks every later hash.
 */
export function chainHash(content: HashedContent): string {
  const canonical = canonicalize({ ...content, revision: content.revision.toString() });
  if (canonical === undefined) throw new Error('event content cannot be canonicalized');
  return createHash('sha256').update(canonical).digest('hex');
}
