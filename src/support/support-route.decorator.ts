import { applyDecorators, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuthGuard, RequireRoles, RolesGuard } from '../auth/auth.guard';

/** Every support route: a valid token (else 401) carrying the `support` role (else 403). */
export function SupportRoutes(): ClassDecorator {
  return applyDecorators(
    ApiTags('support'),
    ApiBearerAuth(),
    UseGuards(AuthGuard, RolesGuard),
    RequireRoles('support'),
    ApiUnauthorizedResponse({ description: 'No valid bearer token' }),
    ApiForbiddenResponse({ description: 'The token lacks the support role' }),
  );
}
