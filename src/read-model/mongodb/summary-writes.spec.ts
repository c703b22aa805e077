import { asCommitRejection, hasErrorCode, MONGO_ERROR_CODES } from './summary-writes';

describe('commit errors', () => {
  it('tells a server error apart by its code, whatever its class', () => {
    expect(hasErrorCode({ code: 11000 }, MONGO_ERROR_CODES.duplicateKey)).toBe(true);
    expect(hasErrorCode({ code: 112 }, MONGO_ERROR_CODES.duplicateKey)).toBe(false);
    expect(hasErrorCode(new Error('x'), MONGO_ERROR_CODES.duplicateKey)).toBe(false);
    expect(hasErrorCode(null, MONGO_ERROR_CODES.namespaceExists)).toBe(false);
  });

  it("turns a duplicate key (another stream's owner and client id) into a commit rejection", () => {
    const duplicate = Object.assign(new Error('E11000 duplicate key error ... by_client_id'), {
      code: 11000,
    });

    const rejection = asCommitRejection(duplicate);

    expect(rejection).toBeInstanceOf(Error);
    expect((rejection as Error).message).toMatch(
      /^read model commit rejected: a summary claims the owner and client id of another stream/,
    );
    expect((rejection as Error).cause).toBe(duplicate);
  });

  it('passes any other error through unchanged', () => {
    const writeConflict = Object.assign(new Error('WriteConflict'), { code: 112 });
    expect(asCommitRejection(writeConflict)).toBe(writeConflict);
  });
});
