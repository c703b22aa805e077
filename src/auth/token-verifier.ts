import { Injectable } from '@nestjs/common';
import { errors, jwtVerify } from 'jose';
import { AppConfig } from '../config/app-config';
import { verificationKey, type VerificationKey } from './signing-key';

export type Role = 'support' | 'auditor';

export interface Principal {
  /** The token's subject: for customers, the owner of their transactions. */
  subject: string;
  roles: Role[];
}

const KNOWN_ROLES: readonly Role[] = ['support', 'auditor'];
const MAX_SUBJECT_LENGTH = 200;

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

@Injectable()
export class TokenVerifier {
  private readonly key: VerificationKey;

  constructor(private readonly config: AppConfig) {
    this.key = verificationKey(config);
  }

  async verify(token: string): Promise<Principal> {
    let payload;
    try {
      // Overloads differ for a key and a key-set function; both are valid here.
      ({ payload } =
        this.key instanceof Uint8Array
          ? await jwtVerify(token, this.key, this.options())
          : await jwtVerify(token, this.key, this.options()));
    } catch (error) {
      if (error instanceof errors.JOSEError) throw new InvalidTokenError(error.message);
      throw error;
    }
    const subject = payload.sub;
    if (
      typeof subject !== 'string' ||
      subject.length === 0 ||
      subject.length > MAX_SUBJECT_LENGTH
    ) {
      throw new InvalidTokenError(
        `"sub" must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`,
      );
    }
    const claimed: unknown = payload.roles;
    const roles = Array.isArray(claimed)
      ? KNOWN_ROLES.filter((role) => claimed.includes(role))
      : [];
    return { subject, roles };
  }

  private options() {
    return {
      issuer: this.config.auth.issuer,
      audience: this.config.auth.audience,
      algorithms: this.key instanceof Uint8Array ? ['HS256'] : ['RS256', 'ES256', 'EdDSA'],
      requiredClaims: ['exp', 'sub'],
    };
  }
}
