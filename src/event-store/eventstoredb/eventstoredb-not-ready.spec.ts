import { convertToCommandError } from './eventstoredb-client';
import { isNotReady, retryWhileNotReady } from './eventstoredb-not-ready';

/** A gRPC failure as the transport reports it, with the server's `exception` metadata. */
function grpcFailure(code: number, details: string, metadata: Record<string, string> = {}): Error {
  return Object.assign(new Error(details), { code, details, metadata: { getMap: () => metadata } });
}

/** Errors as the client builds them from the server's answers. */
const serverNotReady = () => convertToCommandError(grpcFailure(14, 'Server Is Not Ready'));
const notLeader = () =>
  convertToCommandError(
    grpcFailure(5, 'Leader info available', {
      exception: 'not-leader',
      'leader-endpoint-host': 'eventstore',
      'leader-endpoint-port': '2113',
    }),
  );

describe('retryWhileNotReady', () => {
  /** An operation failing with `errors` in turn, then answering "done". */
  function failingWith(errors: Error[]) {
    let calls = 0;
    return {
      calls: () => calls,
      operation: async () => {
        calls += 1;
        const error = errors.shift();
        if (error !== undefined) throw error;
        return 'done';
      },
    };
  }

  function retry(delaysMs: number[]) {
    const waited: number[] = [];
    return { waited, delaysMs, wait: async (ms: number) => void waited.push(ms) };
  }

  it('recognises the client errors of a starting node and of a follower', () => {
    expect([serverNotReady(), notLeader()].map(isNotReady)).toEqual([true, true]);
    expect(isNotReady(convertToCommandError(grpcFailure(2, 'boom')))).toBe(false);
    expect(isNotReady(new Error('Server Is Not Ready'))).toBe(false);
  });

  it('asks again after each delay while the server is not ready, then answers', async () => {
    const op = failingWith([serverNotReady(), notLeader()]);
    const options = retry([10, 20, 40]);
    await expect(retryWhileNotReady(op.operation, options)).resolves.toBe('done');
    expect({ calls: op.calls(), waited: options.waited }).toEqual({ calls: 3, waited: [10, 20] });
  });

  it('gives up with the server error once the delays run out', async () => {
    const last = serverNotReady();
    const op = failingWith([serverNotReady(), serverNotReady(), last]);
    const options = retry([10, 20]);
    await expect(retryWhileNotReady(op.operation, options)).rejects.toBe(last);
    expect({ calls: op.calls(), waited: options.waited }).toEqual({ calls: 3, waited: [10, 20] });
  });

  it('never retries any other error (a conflict, a bad request)', async () => {
    const conflict = new Error('Wrong expected revision');
    const op = failingWith([conflict]);
    const options = retry([10]);
    await expect(retryWhileNotReady(op.operation, options)).rejects.toBe(conflict);
    expect({ calls: op.calls(), waited: options.waited }).toEqual({ calls: 1, waited: [] });
  });
});
