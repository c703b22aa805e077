import { AppConfig, ConfigError } from './app-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    AppConfig.fromEnvironment(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('defaults to the embedded stores under ./data on port 3000 of the loopback interface', () => {
    const config = AppConfig.fromEnvironment({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      eventStore: 'sqlite',
      readModel: 'sqlite',
    });
    expect(config.dataDir).toBe(`${process.cwd()}/data`);
  });

  it('listens on every interface only when HOST says so (as the image does)', () => {
    expect(AppConfig.fromEnvironment({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(AppConfig.fromEnvironment({ HOST: '' }).host).toBe('127.0.0.1');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ EVENT_STORE: 'postgres' }, 'EVENT_STORE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ AUTH_JWT_SECRET: 'short' }, 'AUTH_JWT_SECRET'],
    [{ MAX_AMOUNT_MINOR: '-5' }, 'MAX_AMOUNT_MINOR'],
    [{ SERVICE_ROLE: 'cron' }, 'SERVICE_ROLE'],
    [{ READ_MODEL: 'mongodb', MONGODB_URL: 'http://mongo:27017' }, 'MONGODB_URL'],
    [{ READ_MODEL: 'mongodb' }, 'MONGODB_URL'],
    [
      { READ_MODEL: 'mongodb', MONGODB_URL: 'mongodb://m/', MONGODB_DATABASE: 'a.b' },
      'MONGODB_DATABASE',
    ],
    [
      { EVENT_STORE: 'eventstoredb', READ_MODEL: 'mongodb', MONGODB_URL: 'mongodb://m/' },
      'EVENTSTOREDB_CONNECTION_STRING',
    ],
    [
      { EVENT_STORE: 'eventstoredb', EVENTSTOREDB_CONNECTION_STRING: 'esdb://e:2113?tls=false' },
      'READ_MODEL',
    ],
  ])('rejects %j naming %s and what it allows', (env, variable) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: .+`));
  });

  it('refuses production without configured secrets and a real provider', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^AUTH_JWT_SECRET or AUTH_JWKS_FILE: /),
      expect.stringMatching(/^WEBHOOK_SECRET: /),
      expect.stringMatching(/^PROVIDER_URL: /),
    ]);
    expect(
      problemsOf({
        NODE_ENV: 'production',
        AUTH_JWT_SECRET: 'x'.repeat(32),
        WEBHOOK_SECRET: 'y'.repeat(32),
        PROVIDER_URL: 'https://provider.example/api',
      }),
    ).toEqual([]);
  });

  it.each([
    [{ PROVIDER_URL: 'ftp://x' }, 'PROVIDER_URL'],
    [{ CLIENT_CALLBACK_URL: 'https://client.example/hook' }, 'CLIENT_CALLBACK_URL'],
    [{ STATUS_CHECK_RATE: '1', STATUS_CHECK_MIN_RATE: '2' }, 'STATUS_CHECK_MIN_RATE'],
    [{ PROVIDER_SUBMIT_TIMEOUT_MS: '20000' }, 'PROVIDER_SUBMIT_TIMEOUT_MS'],
  ])('rejects the inconsistent %j naming %s', (env, variable) => {
    expect(problemsOf(env)[0]).toMatch(new RegExp(`^${variable}`));
  });

  it('reads rotating secrets as comma-separated lists, newest first', () => {
    const [a, b] = ['a'.repeat(32), 'b'.repeat(32)];
    const config = AppConfig.fromEnvironment({
      AUTH_JWT_SECRET: `${a},${b}`,
      WEBHOOK_SECRET: `${b},${a}`,
      PROVIDER_WEBHOOK_SIGNING_SECRET: 'whsec_MDEyMzQ1Njc4OWFiY2RlZg==',
    });
    expect(config.auth).toMatchObject({ jwtSecret: a, jwtSecrets: [a, b] });
    expect(config.webhooks).toEqual({
      secret: b,
      secrets: [b, a],
      signingSecrets: ['whsec_MDEyMzQ1Njc4OWFiY2RlZg=='],
    });
  });

  it.each([
    [{ AUTH_JWT_SECRET: `${'a'.repeat(32)},short` }, 'AUTH_JWT_SECRET'],
    [{ AUTH_JWT_SECRET: `${'a'.repeat(32)}, ${'b'.repeat(32)}` }, 'AUTH_JWT_SECRET'],
    [{ WEBHOOK_SECRET: `${'a'.repeat(32)},${'a'.repeat(32)}` }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_SECRET: `${'a'.repeat(32)},` }, 'WEBHOOK_SECRET'],
  ])('rejects the secret list %j naming %s', (env, variable) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(new RegExp(`^${variable}: .+`))]);
  });

  it('reads the rate limits, 0 turning one off, and refuses nonsense', () => {
    expect(AppConfig.fromEnvironment({}).rateLimits).toEqual({
      perPrincipal: 6000,
      perAddress: 3000,
      windowMs: 60_000,
      syncMs: 1_000,
    });
    expect(
      AppConfig.fromEnvironment({ RATE_LIMIT_PER_PRINCIPAL: '0', RATE_LIMIT_WINDOW_MS: '1000' })
        .rateLimits,
    ).toMatchObject({ perPrincipal: 0, windowMs: 1000 });
    expect(problemsOf({ RATE_LIMIT_PER_ADDRESS: '-1' })[0]).toMatch(/^RATE_LIMIT_PER_ADDRESS: /);
    expect(problemsOf({ RATE_LIMIT_WINDOW_MS: '10' })[0]).toMatch(/^RATE_LIMIT_WINDOW_MS: /);
    expect(AppConfig.fromEnvironment({ RATE_LIMIT_SYNC_MS: '250' }).rateLimits.syncMs).toBe(250);
    expect(problemsOf({ RATE_LIMIT_SYNC_MS: '5' })[0]).toMatch(/^RATE_LIMIT_SYNC_MS: /);
    expect(problemsOf({ RATE_LIMIT_SYNC_MS: 'soon' })[0]).toMatch(/^RATE_LIMIT_SYNC_MS: /);
    expect(problemsOf({ RATE_LIMIT_WINDOW_MS: '1000', RATE_LIMIT_SYNC_MS: '1001' })).toEqual([
      'RATE_LIMIT_SYNC_MS: must not exceed RATE_LIMIT_WINDOW_MS',
    ]);
  });

  it('gives submissions their own in-flight limit and the worker half the shutdown time', () => {
    expect(AppConfig.fromEnvironment({}).worker).toMatchObject({
      concurrency: 256,
      submitConcurrency: 5_000,
      shutdownDrainMs: 5_000,
    });
    expect(
      AppConfig.fromEnvironment({ WORKER_SUBMIT_CONCURRENCY: '20', SHUTDOWN_TIMEOUT_MS: '3001' })
        .worker,
    ).toMatchObject({ submitConcurrency: 20, shutdownDrainMs: 1_500 });
    for (const refused of ['0', '10001', '2.5', 'many']) {
      expect(problemsOf({ WORKER_SUBMIT_CONCURRENCY: refused })[0]).toMatch(
        /^WORKER_SUBMIT_CONCURRENCY: /,
      );
    }
  });

  it('trusts X-Forwarded-For only from the proxies it is told of, never from every peer', () => {
    const trustOf = (TRUST_PROXY?: string) => AppConfig.fromEnvironment({ TRUST_PROXY }).trustProxy;
    expect(trustOf(undefined)).toBe(false);
    expect(trustOf('')).toBe(false);
    expect(trustOf('1')).toBe(1);
    expect(trustOf('10.0.0.0/8, 192.168.1.7,loopback,fd00::/8')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ]);
    for (const refused of ['true', '0', '17', '10.0.0.0/33', 'proxy.local', '10.0.0.1/8/1', ',']) {
      expect(problemsOf({ TRUST_PROXY: refused })[0]).toMatch(/^TRUST_PROXY: a hop count/);
    }
  });

  it('selects EventStoreDB and MongoDB with their connection settings', () => {
    const config = AppConfig.fromEnvironment({
      EVENT_STORE: 'eventstoredb',
      EVENTSTOREDB_CONNECTION_STRING: 'esdb://eventstore:2113?tls=false',
      READ_MODEL: 'mongodb',
      MONGODB_URL: 'mongodb://mongo:27017/?replicaSet=rs0',
      SERVICE_ROLE: 'worker',
    });
    expect(config).toMatchObject({
      eventStore: 'eventstoredb',
      eventStoreDb: { connectionString: 'esdb://eventstore:2113?tls=false' },
      readModel: 'mongodb',
      mongo: { url: 'mongodb://mongo:27017/?replicaSet=rs0', database: 'payment_ledger' },
      role: 'worker',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(AppConfig.fromEnvironment({ PORT: '' }).port).toBe(3000);
  });
});
