import { Module } from '@nestjs/common';
import { AuthGuard, RolesGuard } from './auth.guard';
import { TokenVerifier } from './token-verifier';

@Module({
  providers: [TokenVerifier, AuthGuard, RolesGuard],
  exports: [TokenVerifier, AuthGuard, RolesGuard],
})
export class AuthModule {}
