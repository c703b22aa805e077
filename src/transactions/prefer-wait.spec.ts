import { etagOf, matchesEtag, preferredWaitSeconds } from './prefer-wait';

describe('Prefer: wait', () => {
  it.each([
    [undefined, null],
    ['wait=10', 10],
    ['respond-async, wait=5', 5],
    ['WAIT = 3', 3],
    ['wait="7"', 7],
    ['wait=999', 30],
    ['wait=soon', null],
    ['return=minimal', null],
  ])('%j → %j (capped at 30)', (header, expected) => {
    expect(preferredWaitSeconds(header, 30)).toBe(expected);
  });
});

describe('entity tags', () => {
  it('match exactly, weakly or by star, and not otherwise', () => {
    const etag = etagOf(4n);
    expect(matchesEtag('"r4"', etag)).toBe(true);
    expect(matchesEtag('W/"r4"', etag)).toBe(true);
    expect(matchesEtag('"r3", "r4"', etag)).toBe(true);
    expect(matchesEtag('*', etag)).toBe(true);
    expect(matchesEtag('"r3"', etag)).toBe(false);
    expect(matchesEtag(undefined, etag)).toBe(false);
  });
});
