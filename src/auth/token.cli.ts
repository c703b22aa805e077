import { parseArgs } from 'node:util';
import { AppConfig } from '../config/app-config';
import { runCli } from '../cli/cli';
import { signingSecret } from './signing-key';
import { issueToken } from './token-issuer';
import type { Role } from './token-verifier';

const USAGE = `Usage: npm run token -- <subject> [--role support|auditor|operator]... [--expires-in 24h]
Prints a bearer token signed with AUTH_JWT_SECRET or, outside production, the development
secret kept in DATA_DIR (created on first use).`;

const ROLES: readonly Role[] = ['support', 'auditor', 'operator'];

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      role: { type: 'string', multiple: true, default: [] },
      'expires-in': { type: 'string', default: '24h' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const unknownRole = values.role.find((role) => !ROLES.includes(role as Role));
  if (unknownRole !== undefined) {
    console.error(`Unknown role "${unknownRole}"; allowed: ${ROLES.join(', ')}`);
    return 2;
  }
  const config = AppConfig.fromEnvironment(process.env);
  const secret = signingSecret(config);
  if (!secret) {
    console.error('No signing secret: set AUTH_JWT_SECRET (a JWKS file holds public keys only).');
    return 2;
  }
  const token = await issueToken(config, secret, {
    subject: positionals[0],
    roles: values.role as Role[],
    expiresIn: values['expires-in'],
  });
  console.log(token);
  return 0;
}

runCli(main);
