import { Writable } from 'node:stream';
import pino from 'pino';
import { redactingLogger } from './log-redaction';

const TRANSACTION_ID = '51b59af8-7fd3-52ce-8a51-2089008428a1';
const CAPABILITY_TOKEN = 'q2H7yQFh3oXv9l0c1SgqkZbqg2v6x5T0YwP8RrVZx0A';
const BEARER = 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.signature';

function capturedLines(write: (logger: pino.Logger) => void): string {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  write(redactingLogger(pino({ level: 'trace' }, sink)));
  return lines.join('');
}

describe('redactingLogger', () => {
  const capabilityUrl = `/v1/provider/webhooks/${TRANSACTION_ID}/${CAPABILITY_TOKEN}?retry=1`;

  it('keeps request URLs but not the capability token in them', () => {
    const log = capturedLines((logger) => {
      logger.info({ req: { method: 'POST', url: capabilityUrl } }, 'incoming request');
      logger.warn({ url: capabilityUrl, webhookUrl: `http://host${capabilityUrl}` }, 'sent');
      logger.info({ req: { method: 'GET', url: '/v1/transactions/order-1' } }, 'incoming request');
    });
    expect(log).not.toContain(CAPABILITY_TOKEN);
    expect(log).toContain(`/v1/provider/webhooks/${TRANSACTION_ID}/[redacted]?retry=1`);
    expect(log).toContain('/v1/transactions/order-1');
  });

  it('never writes credential headers', () => {
    const headers = {
      authorization: BEARER,
      cookie: 'session=s3cr3t',
      'proxy-authorization': BEARER,
    };
    const log = capturedLines((logger) => {
      logger.info({ req: { url: '/', headers } }, 'incoming request');
      logger.info({ headers }, 'headers');
    });
    expect(log).not.toContain(BEARER);
    expect(log).not.toContain('s3cr3t');
    expect(log).toContain('[redacted]');
  });
});
