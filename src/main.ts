import 'reflect-metadata';
import pino from 'pino';
import { createApp } from './app.factory';
import { AppConfig, ConfigError } from './config/app-config';
import {
  ProviderSimulatorConfig,
  ProviderSimulatorConfigError,
  providerSimulatorConfigFromEnvironment,
} from './provider-simulator/provider-simulator.config';

/**
 * The service's settings and, with no PROVIDER_URL, the built-in simulator's (SIM_*): one
 * ConfigError names every bad variable of both.
 */
function settingsFromEnvironment(env: Record<string, string | undefined>): {
  config: AppConfig;
  simulator?: ProviderSimulatorConfig;
} {
  const problems: string[] = [];
  let config: AppConfig | undefined;
  let simulator: ProviderSimulatorConfig | undefined;
  try {
    config = AppConfig.fromEnvironment(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (!env.PROVIDER_URL) {
    try {
      simulator = providerSimulatorConfigFromEnvironment(env);
    } catch (error) {
      if (!(error instanceof ProviderSimulatorConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (!config || problems.length > 0) throw new ConfigError(problems);
  return { config, simulator };
}

async function main(): Promise<void> {
  let settings: ReturnType<typeof settingsFromEnvironment>;
  try {
    settings = settingsFromEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  const { config, simulator } = settings;
  const logger = pino({ level: config.logLevel });
  const app = await createApp(config, { logger, simulator });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    // A stuck dependency must not keep a stopping instance alive forever.
    setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    app.close().then(
      () => {
        logger.info('stopped cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  await app.listen({ port: config.port, host: config.host });
  logger.info(
    { url: await app.getUrl(), dataDir: config.dataDir, docs: '/docs' },
    'payment-ledger listening',
  );
}

main().catch((error: unknown) => {
  console.error('payment-ledger failed to start:', error);
  process.exit(1);
});
