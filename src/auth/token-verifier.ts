import { KeyObject, createSecretKey } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../config/app-config';
import { Clock } from '../shared/clock';
import { verificationKeys } from './signing-key';

export type Role = 'support' | 'auditor' | 'operator';

export interface Principal {
  /** The token's subject: for customers, the owner of their transactions. */
  subject: string;
  roles: Role[];
}

const KNOWN_ROLES: readonly Role[] = ['support', 'auditor', 'operator'];
const MAX_SUBJECT_LENGTH = 200;

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

function principalOf(payload: JWTPayload): Principal {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidTokenError(`"sub" must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`);
  }
  const claimed: unknown = payload.roles;
  const roles = Array.isArray(claimed) ? KNOWN_ROLES.filter((role) => claimed.includes(role)) : [];
  return { subject, roles };
}

/** Tokens verified recently; enough for the active clients of one instance. */
const MAX_CACHED_TOKENS = 10_000;

@Injectable()
export class TokenVerifier {
  /** HS256 secrets newest first, or a key set (which picks its key by the token's header). */
  private readonly keys: KeyObject[] | JWTVerifyGetKey;
  /**
   * A mobile client sends the same token with every request until it expires; verifying it once
   * is enough (bench:accept: token checks were a fifth of the accept path's CPU). An entry is
   * trusted only until the token's own expiry.
   */
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    const keys = verificationKeys(config);
    // Imported once: jose would otherwise import a raw secret again on every verification.
    this.keys = Array.isArray(keys) ? keys.map((key) => createSecretKey(key)) : keys;
  }

  async verify(token: string): Promise<Principal> {
    const now = this.clock.now();
    const cached = this.verified.get(token);
    if (cached && cached.expiresAtMs > now.getTime()) return cached.principal;
    this.verified.delete(token);

    const payload = await this.verifySignatureAndClaims(token, now);
    const principal = principalOf(payload);
    if (this.verified.size >= MAX_CACHED_TOKENS) {
      // Maps iterate in insertion order: drop the oldest entry.
      this.verified.delete(this.verified.keys().next().value!);
    }
    // exp is required, so it is present once verification passed.
    this.verified.set(token, { principal, expiresAtMs: (payload.exp ?? 0) * 1000 });
    return principal;
  }

  /**
   * A token signed with any configured secret is accepted (rotation); only a bad signature moves
   * on to the next secret, any other refusal (expiry, audience) is final.
   */
  private async verifySignatureAndClaims(token: string, now: Date): Promise<JWTPayload> {
    try {
      if (!Array.isArray(this.keys)) {
        return (await jwtVerify(token, this.keys, this.options(now, false))).payload;
      }
      for (const key of this.keys.slice(0, -1)) {
        try {
          return (await jwtVerify(token, key, this.options(now, true))).payload;
        } catch (error) {
          if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error;
        }
      }
      // verificationKeys always gives at least one secret.
      return (await jwtVerify(token, this.keys.at(-1)!, this.options(now, true))).payload;
    } catch (error) {
      if (error instanceof errors.JOSEError) throw new InvalidTokenError(error.message);
      throw error;
    }
  }

  private options(currentDate: Date, symmetric: boolean) {
    return {
      issuer: this.config.auth.issuer,
      audience: this.config.auth.audience,
      algorithms: symmetric ? ['HS256'] : ['RS256', 'ES256', 'EdDSA'],
      requiredClaims: ['exp', 'sub'],
      currentDate,
    };
  }
}
