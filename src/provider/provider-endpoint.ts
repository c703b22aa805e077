/**
 * Where the payment provider answers. The composition root decides: the configured PROVIDER_URL,
 * or the built-in simulator it started.
 */
export abstract class ProviderEndpoint {
  abstract readonly baseUrl: string;
}
