import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const DIST = join(__dirname, '..', '..', 'dist', 'src');
/** `npm test` builds first (pretest); run `npm run build` before running such a test alone. */
export const AUDIT_CLI = join(DIST, 'audit', 'audit.cli.js');
export const PROJECTIONS_CLI = join(DIST, 'projections.main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A built CLI as an operator runs it: its own process, configured by DATA_DIR only. */
export function runCli(entry: string, dataDir: string, args: string[]): Promise<CliResult> {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
