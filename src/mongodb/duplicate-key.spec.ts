import { MongoServerError } from 'mongodb';
import { DUPLICATE_KEY, isDuplicateKeyError } from './duplicate-key';

describe('isDuplicateKeyError', () => {
  it('recognises the server error of an insert that hit a unique index', () => {
    const error = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 });

    expect(DUPLICATE_KEY).toBe(11000);
    expect(isDuplicateKeyError(error)).toBe(true);
  });

  it('leaves every other error alone', () => {
    expect(isDuplicateKeyError(new MongoServerError({ message: 'WriteConflict', code: 112 }))).toBe(
      false,
    );
    expect(isDuplicateKeyError(Object.assign(new Error('E11000'), { code: 11000 }))).toBe(false);
    expect(isDuplicateKeyError(undefined)).toBe(false);
  });
});
