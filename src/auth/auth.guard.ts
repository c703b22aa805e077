import {
  CanActivate,
  ExecutionContext,
  Injectable,
  SetMetadata,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from '../problem/problem';
import { InvalidTokenError, Principal, Role, TokenVerifier } from './token-verifier';

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

export const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;
const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="payment-ledger"' };

/** Requires a valid bearer JWT and attaches the caller's principal to the request. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly verifier: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new ProblemException(
        'unauthenticated',
        { detail: 'Send Authorization: Bearer <token>' },
        CHALLENGE,
      );
    }
    try {
      request.principal = await this.verifier.verify(match[1]);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      throw new ProblemException(
        'unauthenticated',
        { detail: `Invalid token: ${error.message}` },
        { 'WWW-Authenticate': `Bearer realm="payment-ledger", error="invalid_token"` },
      );
    }
    return true;
  }
}

/** The authenticated caller; only valid on routes behind AuthGuard. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('CurrentPrincipal used on a route without AuthGuard');
    return principal;
  },
);

const ROLES_KEY = 'payment-ledger:roles';

/** Routes for staff: the caller's token must carry one of these roles (`roles` claim). */
export const RequireRoles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** After AuthGuard: refuses callers without a role the route requires (403). */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required || required.length === 0) return true;
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal && required.some((role) => principal.roles.includes(role))) return true;
    throw new ProblemException('forbidden', {
      detail: `This route needs one of the roles: ${required.join(', ')}`,
    });
  }
}
