import type { Generation } from './summary-documents';

/**
 * The copies of the summaries, in one small document (one per rebuildable projection).
 *
 * Why generations: a rebuild must fill a copy beside the live one while queries and the live
 * projection carry on, then swap it in atomically together with its checkpoint. MongoDB cannot
 * rename a collection inside a transaction, but it can change one document in one: every summary
 * document carries the generation of its copy, queries and live commits filter on the generation
 * this document names `live`, and finishRebuild flips `live` in the same transaction that moves
 * the checkpoint. A query reads this document and the summaries in one snapshot, so it never sees
 * a mix of two copies; the replaced copy's documents are deleted after the swap.
 */
export interface GenerationsDocument {
  _id: string;
  live: Generation;
  /** The copy being rebuilt, if a rebuild has begun and not finished or been abandoned. */
  rebuild: Generation | null;
  /** Highest generation ever handed out: a new rebuild never reuses one that may have leftovers. */
  lastGeneration: Generation;
  /**
   * Bumped by every live commit, only so that each one writes this document: MongoDB detects
   * conflicts between transactions that write the same document, not between a read and a write,
   * so a live commit that only read `live` could commit into the old copy while a swap commits.
   */
  liveCommits: number;
}

export type Generations = Omit<GenerationsDocument, '_id'>;

/** The live copy of a store nobody has rebuilt yet is generation 0. */
export const INITIAL_GENERATIONS: Generations = {
  live: 0,
  rebuild: null,
  lastGeneration: 0,
  liveCommits: 0,
};

/**
 * The `$setOnInsert` of an upsert that also `$inc`s `counter`: the document as first created,
 * without the counter, because MongoDB refuses two operators on one field.
 */
export function generationsInsertedBeside(
  counter: 'liveCommits' | 'lastGeneration',
): Partial<Generations> {
  const { [counter]: _counter, ...inserted } = INITIAL_GENERATIONS;
  return inserted;
}

/**
 * Pure: which copy abandonRebuild drops. The one this instance began, if any, and never a newer
 * one that superseded it; else whichever rebuild is unfinished (a crashed run's). Never the live
 * copy.
 */
export function abandonedGeneration(
  begunHere: Generation | null,
  generations: Pick<Generations, 'live' | 'rebuild'>,
): Generation | null {
  const abandoned = begunHere ?? generations.rebuild;
  return abandoned === generations.live ? null : abandoned;
}
