import fc from 'fast-check';
import { streamNameFor, transactionIdFor } from './transaction-id';

describe('transaction ids', () => {
  it('are stable for one (owner, client id)', () => {
    expect(transactionIdFor('alice', 'order-1')).toBe(transactionIdFor('alice', 'order-1'));
  });

  it('differ between owners using the same client id, and never collide by concatenation', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (o1, c1, o2, c2) => {
        fc.pre(o1 !== o2 || c1 !== c2);
        expect(transactionIdFor(o1, c1)).not.toBe(transactionIdFor(o2, c2));
      }),
    );
    expect(transactionIdFor('ab', 'c')).not.toBe(transactionIdFor('a', 'bc'));
  });

  it('name a stream in the transaction category', () => {
    expect(streamNameFor(transactionIdFor('alice', 'x'))).toMatch(
      /^transaction-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
