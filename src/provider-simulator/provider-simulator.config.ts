import { z } from 'zod';
import {
  defaultSimulatorOptions,
  ProviderSimulatorOptions,
  SimulatorOptionsError,
  validateSimulatorOptions,
} from './provider-simulator.options';

/**
 * The variables that set simulator options, and where each lands. The ranges they allow are the
 * options' own (provider-simulator.options.ts), so there is one rule per value.
 */
const optionVariables = [
  { name: 'SIM_TIME_SCALE', path: ['timeScale'] },
  { name: 'SIM_SEED', path: ['seed'] },
  { name: 'SIM_P504', path: ['p504'] },
  { name: 'SIM_LATE_APPEARANCE_SHARE', path: ['lateAppearanceShare'] },
  { name: 'SIM_COMPLETED_SHARE', path: ['completedShare'] },
  { name: 'SIM_WEBHOOK_SHARE', path: ['webhookShare'] },
  { name: 'SIM_RESPONSE_DELAY_MIN_SECONDS', path: ['responseDelaySeconds', 'min'] },
  { name: 'SIM_RESPONSE_DELAY_MAX_SECONDS', path: ['responseDelaySeconds', 'max'] },
  { name: 'SIM_TIMEOUT_DELAY_SECONDS', path: ['timeoutDelaySeconds'] },
  { name: 'SIM_LATE_APPEARANCE_MIN_SECONDS', path: ['lateAppearanceSeconds', 'min'] },
  { name: 'SIM_LATE_APPEARANCE_MAX_SECONDS', path: ['lateAppearanceSeconds', 'max'] },
  { name: 'SIM_WEBHOOK_DELAY_MIN_SECONDS', path: ['webhookDelaySeconds', 'min'] },
  { name: 'SIM_WEBHOOK_DELAY_MAX_SECONDS', path: ['webhookDelaySeconds', 'max'] },
  { name: 'SIM_STATUS_BUDGET_RPS', path: ['statusBudget', 'requestsPerSecond'] },
  { name: 'SIM_BAN_SECONDS', path: ['statusBudget', 'banSeconds'] },
  { name: 'SIM_WEBHOOK_SECRET', path: ['webhookSecret'], text: true },
  { name: 'SIM_WEBHOOK_RETRIES', path: ['webhookRetries', 'count'] },
  { name: 'SIM_WEBHOOK_RETRY_BACKOFF_SECONDS', path: ['webhookRetries', 'backoffSeconds'] },
  { name: 'SIM_WEBHOOK_TIMEOUT_MS', path: ['webhookDeliveryTimeoutMs'] },
] as const;

const serverSchema = z.object({
  SIM_PORT: z.coerce
    .number({ error: 'must be a port number from 0 to 65535' })
    .int({ error: 'must be a port number from 0 to 65535' })
    .min(0, { error: 'must be a port number from 0 to 65535' })
    .max(65535, { error: 'must be a port number from 0 to 65535' })
    .default(4010),
  SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SIM_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
});

export type ProviderSimulatorConfig = {
  port: number;
  host: string;
  logLevel: z.output<typeof serverSchema>['SIM_LOG_LEVEL'];
  options: ProviderSimulatorOptions;
};

export class ProviderSimulatorConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid provider simulator configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ProviderSimulatorConfigError';
  }
}

/**
 * Reads SIM_* variables (an empty one counts as unset). SIM_STATUS_BUDGET_RPS=0 turns the status
 * budget off, like the reference mock. Throws one error naming every bad variable.
 */
export function providerSimulatorConfigFromEnvironment(
  env: Record<string, string | undefined>,
): ProviderSimulatorConfig {
  const valueOf = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const problems: string[] = [];
  const got = (name: string) => ` (got "${valueOf(name)}")`;

  const server = serverSchema.safeParse(
    Object.fromEntries(Object.keys(serverSchema.shape).map((name) => [name, valueOf(name)])),
  );
  if (!server.success) {
    for (const issue of server.error.issues) {
      const name = String(issue.path[0]);
      problems.push(`${name}: ${issue.message}${got(name)}`);
    }
  }

  const draft: Record<string, unknown> = structuredClone({ ...defaultSimulatorOptions });
  for (const variable of optionVariables) {
    const text = valueOf(variable.name);
    if (text === undefined) continue;
    const value = 'text' in variable ? text : text.trim() === '' ? NaN : Number(text);
    if (typeof value === 'number' && Number.isNaN(value)) {
      problems.push(`${variable.name}: must be a number${got(variable.name)}`);
      continue;
    }
    setAt(draft, variable.path, value);
  }
  if (Number(valueOf('SIM_STATUS_BUDGET_RPS')) === 0) draft.statusBudget = null;

  let options: ProviderSimulatorOptions | undefined;
  try {
    options = validateSimulatorOptions(draft);
  } catch (error) {
    if (!(error instanceof SimulatorOptionsError)) throw error;
    for (const problem of error.problems) {
      const variable = optionVariables.find((v) => v.path.join('.') === problem.path);
      const name = variable?.name ?? problem.path;
      // A secret is never echoed back.
      const shown = variable && !('text' in variable) ? got(variable.name) : '';
      problems.push(`${name}: ${problem.message}${shown}`);
    }
  }

  if (!server.success || !options || problems.length > 0) {
    throw new ProviderSimulatorConfigError(problems);
  }
  return {
    port: server.data.SIM_PORT,
    host: server.data.SIM_HOST,
    logLevel: server.data.SIM_LOG_LEVEL,
    options,
  };
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [key, ...rest] = path;
  if (rest.length === 0) {
    target[key] = value;
    return;
  }
  const child = target[key];
  const nested: Record<string, unknown> =
    typeof child === 'object' && child !== null ? { ...child } : {};
  setAt(nested, rest, value);
  target[key] = nested;
}
