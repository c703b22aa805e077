import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { createApp } from '../app.factory';
import { runCli } from '../cli/cli';
import { AppConfig } from '../config/app-config';
import { providerSimulatorConfigFromEnvironment } from '../provider-simulator/provider-simulator.config';
import { contractText, openApiDocument } from './openapi-document';

/** The committed contract, at the repository root (this file runs from dist/src/openapi/). */
const CONTRACT_FILE = resolve(__dirname, '..', '..', '..', 'openapi.json');

/**
 * `npm run openapi`: builds the service as createApp does, over a throw-away data folder and
 * default settings (so the document never depends on this machine's environment), without
 * listening, and writes its OpenAPI document to openapi.json.
 */
async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-openapi-'));
  try {
    const app = await createApp(AppConfig.fromEnvironment({ DATA_DIR: dataDir }), {
      logger: pino({ level: 'silent' }),
      simulator: providerSimulatorConfigFromEnvironment({ SIM_PORT: '0' }),
    });
    try {
      writeFileSync(CONTRACT_FILE, contractText(openApiDocument(app)));
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`wrote ${CONTRACT_FILE}`);
  return 0;
}

runCli(main);
