import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRACT_PATH } from '../support/contract-check';

const ROOT = join(__dirname, '..', '..');
const OPENAPI_TYPESCRIPT = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const PROGRAM = join(__dirname, 'client', 'readme-flows.ts');

/** Runs a Node tool; on failure, its output is the error. */
function run(args: string[], cwd: string): void {
  try {
    execFileSync(process.execPath, args, { cwd, stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, {
      cause: error,
    });
  }
}

describe('a client generated from openapi.json', () => {
  let dir: string;

  beforeAll(() => {
    // Outside the repository, so nothing of it (node_modules/@types, tsconfig) leaks in.
    dir = mkdtempSync(join(tmpdir(), 'ledger-client-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("compiles the README's flows and handles every problem type of POST /v1/transactions", () => {
    run([OPENAPI_TYPESCRIPT, CONTRACT_PATH, '--output', join(dir, 'ledger-api.ts')], dir);
    expect(readFileSync(join(dir, 'ledger-api.ts'), 'utf8')).toContain('"/v1/transactions"');
    copyFileSync(PROGRAM, join(dir, 'readme-flows.ts'));
    run(
      [
        TSC,
        '--noEmit',
        '--strict',
        '--target',
        'ES2023',
        '--lib',
        'ES2023,DOM',
        '--module',
        'esnext',
        '--moduleResolution',
        'bundler',
        join(dir, 'readme-flows.ts'),
      ],
      dir,
    );
  }, 120_000);
});
