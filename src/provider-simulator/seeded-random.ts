import { createHash } from 'node:crypto';

const WORDS_PER_BLOCK = 8; // a SHA-256 digest holds eight 32-bit words
const WORD_RANGE = 2 ** 32;

/**
 * A reproducible stream of uniform numbers in [0, 1) for one POST, derived from the seed, the
 * transaction id and the attempt number (counter-mode SHA-256). Deriving a stream per POST instead
 * of sharing one sequence makes each outcome independent of the order in which concurrent POSTs
 * arrive: the same seed and the same ids always give the same outcomes.
 */
export function submissionRandom(seed: number, id: string, attempt: number): () => number {
  let block = 0;
  let words: number[] = [];
  let next = WORDS_PER_BLOCK;
  return () => {
    if (next === WORDS_PER_BLOCK) {
      words = hashWords(JSON.stringify([seed, id, attempt, block]));
      block += 1;
      next = 0;
    }
    return words[next++] / WORD_RANGE;
  };
}

function hashWords(input: string): number[] {
  const digest = createHash('sha256').update(input).digest();
  return Array.from({ length: WORDS_PER_BLOCK }, (_, index) => digest.readUInt32BE(index * 4));
}
