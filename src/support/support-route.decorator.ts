import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthGuard, RequireRoles, RolesGuard } from '../auth/auth.guard';

/** Every support route: a valid token (else 401) carrying the `support` role (else 403). */
export function SupportRoutes(): ClassDecorator {
  return applyDecorators(
    ApiTags('support'),
    ApiBearerAuth(),
    UseGuards(AuthGuard, RolesGuard),
    RequireRoles('support'),
  );
}
