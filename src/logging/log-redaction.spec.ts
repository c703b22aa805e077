import { Writable } from 'node:stream';
import pino from 'pino';
import { redactingLogger } from './log-redaction';

const SECRET_IN_URL = 'q2H7yQFh3oXv9l0c1SgqkZbqg2v6x5T0YwP8RrVZx0A';
const BEARER = 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.signature';

/** Stands in for a feature's own URL redaction (provider webhooks' capability tokens). */
const redactSecret = (url: string) => url.replace(SECRET_IN_URL, '[redacted]');

function capturedLines(write: (logger: pino.Logger) => void): string {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  write(redactingLogger(pino({ level: 'trace' }, sink), redactSecret));
  return lines.join('');
}

describe('redactingLogger', () => {
  const secretUrl = `/v1/provider/webhooks/tx/${SECRET_IN_URL}?retry=1`;

  it('keeps request URLs but passes each through the given redaction', () => {
    const log = capturedLines((logger) => {
      logger.info({ req: { method: 'POST', url: secretUrl } }, 'incoming request');
      logger.warn({ url: secretUrl, webhookUrl: `http://host${secretUrl}` }, 'sent');
      logger.info({ req: { method: 'GET', url: '/v1/transactions/order-1' } }, 'incoming request');
    });
    expect(log).not.toContain(SECRET_IN_URL);
    expect(log.split('/v1/provider/webhooks/tx/[redacted]?retry=1')).toHaveLength(4);
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
