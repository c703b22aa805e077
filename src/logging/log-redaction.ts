import type { Logger } from 'pino';
import { redactCapabilityTokens } from '../provider-webhooks/webhook-urls';

/** Where URLs appear in log lines: fastify's request serializer and our own fields. */
const URL_PATHS = ['req.url', 'url', 'webhookUrl'];
/** Credentials sent as headers, wherever a line carries request headers. */
const CREDENTIAL_HEADER_PATHS = ['authorization', 'cookie', 'proxy-authorization'].flatMap(
  (header) => [`req.headers["${header}"]`, `headers["${header}"]`],
);

function censor(value: unknown, path: string[]): unknown {
  const isUrl = URL_PATHS.includes(path.join('.'));
  return isUrl && typeof value === 'string' ? redactCapabilityTokens(value) : '[redacted]';
}

/**
 * The logger every line of the service goes through, with credentials taken out: a webhook
 * capability URL is itself the credential, so request URLs are logged without its token, and
 * Authorization (or cookie) headers never appear.
 */
export function redactingLogger(logger: Logger): Logger {
  return logger.child(
    {},
    { redact: { paths: [...URL_PATHS, ...CREDENTIAL_HEADER_PATHS], censor } },
  );
}
