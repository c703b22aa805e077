import pino from 'pino';
import { startProviderSimulator } from './provider-simulator';
import { providerSimulatorConfigFromEnvironment } from './provider-simulator.config';

/** `npm run provider-sim`: the simulator as a standalone process, configured by SIM_* variables. */
async function main(): Promise<void> {
  const config = providerSimulatorConfigFromEnvironment(process.env);
  const logger = pino({ name: 'provider-simulator', level: config.logLevel });
  const simulator = await startProviderSimulator({
    ...config.options,
    port: config.port,
    host: config.host,
    logger,
  });
  const { webhookSecret, ...shownOptions } = simulator.options;
  logger.info(
    {
      url: simulator.url,
      options: { ...shownOptions, webhookSigned: webhookSecret !== undefined },
    },
    'provider simulator listening',
  );

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'provider simulator stopping');
    simulator.close().catch((error: unknown) => {
      logger.error({ err: error }, 'provider simulator did not close cleanly');
      process.exitCode = 1;
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  // Configuration errors already name each bad variable and what it allows.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
