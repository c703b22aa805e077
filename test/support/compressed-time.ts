import { compressedServiceEnv as serviceEnvAt } from '../../src/provider-simulator/compressed-time';

/** Real seconds per provider second in end-to-end tests: the 120 s late window takes 2.4 s. */
export const SCALE = 0.02;

/** The service configured for the simulator's compressed time, reference values scaled. */
export function compressedServiceEnv(providerUrl: string, scale = SCALE): Record<string, string> {
  return serviceEnvAt(providerUrl, scale);
}
