import type { Logger } from 'pino';

/** Where URLs appear in log lines: fastify's request serializer and our own fields. */
const URL_PATHS = ['req.url', 'url', 'webhookUrl'];
/** Credentials sent as headers, wherever a line carries request headers. */
const CREDENTIAL_HEADER_PATHS = ['authorization', 'cookie', 'proxy-authorization'].flatMap(
  (header) => [`req.headers["${header}"]`, `headers["${header}"]`],
);

/**
 * The logger every line of the service goes through, with credentials taken out: URLs pass
 * through `redactUrl` (a webhook capability URL is itself the credential; the feature that hands
 * them out says how to take its token out), and Authorization (or cookie) headers never appear.
 */
export function redactingLogger(logger: Logger, redactUrl: (url: string) => string): Logger {
  const censor = (value: unknown, path: string[]): unknown => {
    const isUrl = URL_PATHS.includes(path.join('.'));
    return isUrl && typeof value === 'string' ? redactUrl(value) : '[redacted]';
  };
  return logger.child(
    {},
    { redact: { paths: [...URL_PATHS, ...CREDENTIAL_HEADER_PATHS], censor } },
  );
}
