import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { startProviderSimulator } from '../../src/provider-simulator/provider-simulator';
import { copyBuildContext, isIgnored, parseDockerignore } from './build-context';
import { copyOf, envOf, execForm, instructionsOf, parseDockerfile } from './dockerfile';

/**
 * `docker build` as far as it can go without Docker: the build context assembled from
 * `.dockerignore`, the build stage's `npm run build` run in it, the runtime stage's files copied
 * out as its COPY instructions say, and the image's command started from them.
 *
 * The build reuses this checkout's node_modules (symlinked) instead of the Dockerfile's install:
 * installing from scratch compiles better-sqlite3 for one to two minutes. The runtime copy sees
 * only the production packages (package-lock's non-dev entries), as `npm prune --omit=dev`
 * leaves them, so code that needs a dev dependency at run time fails here as in the image. How
 * the image installs is checked separately (docker-compose.spec.ts, "installs with scripts off").
 */

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);
const TEST_CODE = /(^|\/)test\/|\.(spec|contract|e2e|containers)\.js$/;

function filesUnder(folder: string, prefix = ''): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(folder, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/** A node_modules holding only the production packages of the lock file, linked to ours. */
function productionNodeModules(destination: string): void {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (entry.dev || !/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path)) continue;
    const link = join(destination, path);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, path), link, 'dir');
  }
}

/** Resolves with the URL the service logs once it listens; rejects if it exits first. */
function listeningUrl(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', () => {
      for (const line of output().split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'payment-ledger listening' && entry.url) resolve(entry.url);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output()}`)));
  });
}

describe('the image, built from the build context Docker would send', () => {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const [build, runtime] = [stages[0], stages[stages.length - 1]];
  let scratch: string;
  let context: string;
  let image: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ledger-image-'));
    context = join(scratch, 'context');
    image = join(scratch, 'image');
    copyBuildContext(ROOT, context);
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reads .dockerignore as Docker does', () => {
    const rules = parseDockerignore('# comment\n/dist\ntest\n*.log\n**/*.tmp\nsrc/*/fixtures\n');
    const ignored = (path: string) => isIgnored(path, rules);
    expect(
      ['dist/src/main.js', 'test/e2e/a.ts', 'a.log', 'x/y/z.tmp', 'src/a/fixtures/b.json'].filter(
        ignored,
      ),
    ).toHaveLength(5);
    expect(['src/test/a.ts', 'src/a.log', 'src/a/b/fixtures', 'distant'].filter(ignored)).toEqual(
      [],
    );
  });

  it('sends the sources and leaves out tests, installs, builds and secrets', () => {
    const sent = filesUnder(context);
    expect(sent).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    expect(sent.filter((file) => file.startsWith('src/')).length).toBeGreaterThan(0);
    expect(
      sent.filter((file) => /^(test|node_modules|dist|data|\.git|\.env)(\/|$)/.test(file)),
    ).toEqual([]);
  });

  it('builds there with the build stage\'s "npm run build", into a dist without test code', async () => {
    const buildRun = instructionsOf(build, 'RUN').find((i) => /npm run build/.test(i.args));
    expect(buildRun).toBeDefined();
    symlinkSync(join(ROOT, 'node_modules'), join(context, 'node_modules'), 'dir');
    await run('npm', ['run', 'build'], { cwd: context }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(
          `npm run build failed in the build context:\n${error.stdout}${error.stderr}`,
        );
      },
    );
    const built = filesUnder(join(context, 'dist'));
    expect(built).toContain('src/main.js');
    expect(built.filter((file) => TEST_CODE.test(file))).toEqual([]);
  }, 180_000);

  it("starts from the runtime stage's files and answers ready on the embedded default", async () => {
    expect(existsSync(join(context, 'dist', 'src', 'main.js'))).toBe(true);
    const buildDir = posix.resolve('/', ...instructionsOf(build, 'WORKDIR').map((i) => i.args));
    const runtimeDir = posix.resolve('/', ...instructionsOf(runtime, 'WORKDIR').map((i) => i.args));
    for (const instruction of instructionsOf(runtime, 'COPY')) {
      const copy = copyOf(instruction);
      if (copy.from === null) continue;
      const [source] = copy.sources;
      const from = join(context, posix.relative(buildDir, posix.resolve(buildDir, source)));
      const to = join(
        image,
        posix.relative(runtimeDir, posix.resolve(runtimeDir, copy.destination)),
      );
      if (posix.basename(source) === 'node_modules') productionNodeModules(dirname(to));
      else cpSync(from, to, { recursive: true });
    }
    const command = execForm(instructionsOf(runtime, 'CMD').at(-1)?.args ?? '') ?? [];
    expect(command[0]).toBe('node');

    const simulator = await startProviderSimulator({ port: 0 });
    const dataDir = join(scratch, 'data');
    mkdirSync(dataDir);
    const child = spawn(process.execPath, command.slice(1), {
      cwd: image,
      env: {
        PATH: process.env.PATH,
        ...envOf(runtime),
        // Production, as in the image, on the embedded SQLite default; loopback only, here.
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: dataDir,
        PROVIDER_URL: simulator.url,
        AUTH_JWT_SECRET: 'image-build-test-jwt-secret-0123456789abcdef',
        WEBHOOK_SECRET: 'image-build-test-webhook-secret-0123456789abcdef',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const url = await listeningUrl(child, () => output);
      const ready = await fetch(`${url}/health/ready`);
      expect({ status: ready.status, nodeEnv: envOf(runtime).NODE_ENV }).toEqual({
        status: 200,
        nodeEnv: 'production',
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await simulator.close();
    }
  }, 60_000);
});
