import { SignJWT } from 'jose';
import type { AppConfig } from '../config/app-config';
import type { Role } from './token-verifier';

export interface TokenRequest {
  subject: string;
  roles: Role[];
  /** A jose time span such as '24h' or '15m'. */
  expiresIn: string;
}

/** Mints an HS256 token the service accepts; used by `npm run token` and by tests. */
export async function issueToken(
  config: AppConfig,
  secret: Uint8Array,
  { subject, roles, expiresIn }: TokenRequest,
): Promise<string> {
  return new SignJWT(roles.length > 0 ? { roles } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(secret);
}
