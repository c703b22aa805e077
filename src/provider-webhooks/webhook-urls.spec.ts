import { redactCapabilityTokens } from './webhook-urls';

const TRANSACTION_ID = '51b59af8-7fd3-52ce-8a51-2089008428a1';
const CAPABILITY_TOKEN = 'q2H7yQFh3oXv9l0c1SgqkZbqg2v6x5T0YwP8RrVZx0A';

describe('redactCapabilityTokens', () => {
  const capabilityUrl = `/v1/provider/webhooks/${TRANSACTION_ID}/${CAPABILITY_TOKEN}?retry=1`;

  it('keeps the URL but not the capability token in it', () => {
    expect(redactCapabilityTokens(capabilityUrl)).toBe(
      `/v1/provider/webhooks/${TRANSACTION_ID}/[redacted]?retry=1`,
    );
    expect(redactCapabilityTokens(`http://host${capabilityUrl}`)).toBe(
      `http://host/v1/provider/webhooks/${TRANSACTION_ID}/[redacted]?retry=1`,
    );
  });

  it('leaves other URLs as they are', () => {
    expect(redactCapabilityTokens('/v1/transactions/order-1')).toBe('/v1/transactions/order-1');
  });
});
