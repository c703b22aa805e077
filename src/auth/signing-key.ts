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

export type VerificationKey = Uint8Array | JWTVerifyGetKey;

export function verificationKey(config: AppConfig): VerificationKey {
  if (config.auth.jwksFile) {
    const jwks = JSON.parse(readFileSync(config.auth.jwksFile, 'utf8')) as JSONWebKeySet;
    return createLocalJWKSet(jwks);
  }
  const secret = signingSecret(config);
  if (!secret) throw new Error('No token verification key: set AUTH_JWT_SECRET or AUTH_JWKS_FILE');
  return secret;
}
