import { randomBytes } from 'node:crypto';
import {
  ProviderSimulatorConfigError,
  providerSimulatorConfigFromEnvironment,
} from './provider-simulator.config';
import { defaultSimulatorOptions } from './provider-simulator.options';

function problemsOf(env: Record<string, string>): string[] {
  try {
    providerSimulatorConfigFromEnvironment(env);
  } catch (error) {
    if (error instanceof ProviderSimulatorConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('providerSimulatorConfigFromEnvironment', () => {
  it('gives the reference defaults when nothing is set, empty values included', () => {
    expect(providerSimulatorConfigFromEnvironment({ SIM_P504: '' })).toEqual({
      port: 4010,
      host: '127.0.0.1',
      logLevel: 'info',
      options: { ...defaultSimulatorOptions },
    });
  });

  it('reads every variable into its option, keeping the defaults of the others', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const { port, options } = providerSimulatorConfigFromEnvironment({
      SIM_PORT: '4999',
      SIM_TIME_SCALE: '0.01',
      SIM_SEED: '42',
      SIM_P504: '0.25',
      SIM_RESPONSE_DELAY_MAX_SECONDS: '5',
      SIM_LATE_APPEARANCE_MAX_SECONDS: '90',
      SIM_BAN_SECONDS: '30',
      SIM_WEBHOOK_SECRET: secret,
      SIM_WEBHOOK_RETRIES: '2',
    });
    expect(port).toBe(4999);
    expect(options).toMatchObject({
      timeScale: 0.01,
      seed: 42,
      p504: 0.25,
      completedShare: 2 / 3,
      responseDelaySeconds: { min: 0.2, max: 5 },
      lateAppearanceSeconds: { min: 30, max: 90 },
      statusBudget: { requestsPerSecond: 10, banSeconds: 30 },
      webhookSecret: secret,
      webhookRetries: { count: 2, backoffSeconds: 5 },
    });
  });

  it('turns the status budget off with SIM_STATUS_BUDGET_RPS=0', () => {
    expect(
      providerSimulatorConfigFromEnvironment({ SIM_STATUS_BUDGET_RPS: '0' }).options.statusBudget,
    ).toBeNull();
  });

  it('names every bad variable with what it allows and what it got', () => {
    expect(
      problemsOf({
        SIM_PORT: '70000',
        SIM_TIME_SCALE: 'fast',
        SIM_P504: '1.5',
        SIM_WEBHOOK_RETRIES: '1.5',
        SIM_RESPONSE_DELAY_MIN_SECONDS: '8',
        SIM_RESPONSE_DELAY_MAX_SECONDS: '5',
        SIM_LOG_LEVEL: 'loud',
      }),
    ).toEqual(
      expect.arrayContaining([
        'SIM_PORT: must be a port number from 0 to 65535 (got "70000")',
        'SIM_TIME_SCALE: must be a number (got "fast")',
        'SIM_P504: must be a number from 0 to 1 (got "1.5")',
        'SIM_WEBHOOK_RETRIES: must be a whole number, 0 or more (got "1.5")',
        'SIM_RESPONSE_DELAY_MAX_SECONDS: must not be less than the matching minimum (got "5")',
        expect.stringMatching(/^SIM_LOG_LEVEL: .*"info".* \(got "loud"\)$/),
      ]),
    );
  });

  it('refuses a webhook secret that is not a Standard Webhooks key, without echoing it', () => {
    const [problem] = problemsOf({ SIM_WEBHOOK_SECRET: 'whsec_not base64!' });
    expect(problem).toMatch(/^SIM_WEBHOOK_SECRET: must be a Standard Webhooks secret/);
    expect(problem).not.toContain('not base64');
  });
});
