import { readFileSync } from 'node:fs';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { AppConfig } from '../config/app-config';
import { readOrCreateDevSecret } from '../shared/dev-secret';

export const DEV_SECRET_FILE = 'dev-jwt-secret';

/** The HS256 secret that signs tokens: configured, or the development one. */
export function signingSecret(config: AppConfig): Uint8Array | undefined {
  if (config.auth.jwtSecret) return new TextEncoder().encode(config.auth.jwtSecret);
  if (config.auth.jwksFile || config.nodeEnv === 'production') return undefined;
  return new TextEncoder().encode(readOrCreateDevSecret(config.dataDir, DEV_SECRET_FILE));
}

/** HS256 secrets (newest first, any may have signed a token) or a key set. */
export type VerificationKeys = Uint8Array[] | JWTVerifyGetKey;

export function verificationKeys(config: AppConfig): VerificationKeys {
  if (config.auth.jwksFile) {
    const jwks = JSON.parse(readFileSync(config.auth.jwksFile, 'utf8')) as JSONWebKeySet;
    return createLocalJWKSet(jwks);
  }
  if (config.auth.jwtSecrets.length > 0) {
    return config.auth.jwtSecrets.map((secret) => new TextEncoder().encode(secret));
  }
  const secret = signingSecret(config);
  if (!secret) throw new Error('No token verification key: set AUTH_JWT_SECRET or AUTH_JWKS_FILE');
  return [secret];
}
