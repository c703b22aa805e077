import { MongoServerError } from 'mongodb';

/** The server's DuplicateKey code: an insert (or an upsert's insert) hit a unique index. */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}
