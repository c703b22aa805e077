/**
 * The `wait` preference of RFC 7240 (`Prefer: wait=10`, possibly among others), capped by
 * configuration. Null when absent or malformed: a preference is a hint, never an error.
 */
export function preferredWaitSeconds(
  prefer: string | undefined,
  maxSeconds: number,
): number | null {
  if (!prefer) return null;
  for (const preference of prefer.split(',')) {
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(;.*)?$/i.exec(preference);
    if (match) return Math.min(Number(match[1]), maxSeconds);
  }
  return null;
}

export function etagOf(revision: bigint): string {
  return `"r${revision}"`;
}

/** True when an If-None-Match header names this entity tag (or `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/** The revision inside one of our entity tags, or null for anything else. */
export function revisionOfEtag(ifNoneMatch: string | undefined): bigint | null {
  const match = /^\s*(?:W\/)?"r(\d{1,19})"\s*$/.exec(ifNoneMatch ?? '');
  return match ? BigInt(match[1]) : null;
}
