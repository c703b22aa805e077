import { createHash } from 'node:crypto';
import { request } from 'undici';

/**
 * What a test or bench deposits when it is not about money: more than any run pays, so no
 * test's arithmetic depends on the balance.
 */
export const GENEROUS_DEPOSIT = 10 ** 12;

export interface Funding {
  owner: string;
  currency: string;
  /** Minor units; GENEROUS_DEPOSIT unless the caller is about money. */
  amount?: number;
}

/**
 * The body of `POST /v1/accounts/deposits` that funds this account. Its id is derived, not
 * random, so funding the same account again (a retry, a restarted service, a second instance on
 * one store) replays the deposit instead of adding a second one; hashed, because an owner may
 * hold characters a deposit id may not.
 */
export function fundingDeposit({ owner, currency, amount = GENEROUS_DEPOSIT }: Funding) {
  const digest = createHash('sha256').update(`${owner}\0${currency}\0${amount}`).digest('hex');
  return { id: `funding-${digest.slice(0, 32)}`, owner, amount, currency, reference: 'funding' };
}

/**
 * Deposits into the owner's account over HTTP, as an operator does, so the payments it makes are
 * covered. `operatorToken` must carry the operator role. Throws unless the deposit is made (201)
 * or was already made (200).
 */
export async function fundAccount(
  baseUrl: string,
  operatorToken: string,
  funding: Funding,
): Promise<void> {
  const response = await request(`${baseUrl}/v1/accounts/deposits`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(fundingDeposit(funding)),
  });
  const text = await response.body.text();
  if (response.statusCode !== 201 && response.statusCode !== 200) {
    throw new Error(
      `funding ${funding.owner} in ${funding.currency}: ${response.statusCode} ${text}`,
    );
  }
}
