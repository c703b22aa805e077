// @ts-check
/**
 * `nest build`, recording in dist/ a fingerprint of what the build read, so that the commands
 * that run the built service (`npm start`, `token`, `audit`, `projections`...) can skip a build
 * of 15 to 25 s when nothing it reads has changed since (`--if-stale`). `npm run build` and
 * `npm test` always build. The fingerprint hashes file contents, not modification times, so a
 * checkout that touches files without changing them does not force a build, and one that
 * changes them always does.
 */
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join, relative, sep } = require('node:path');

/** What `nest build` reads: the sources it compiles and copies, its settings, the dependencies. */
const INPUTS = [
  'src',
  'bench',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
  'package-lock.json',
];
/** Written by the benchmarks, never read by the build. */
const NOT_INPUTS = ['bench/results'];
const STAMP = join('dist', '.build-fingerprint');

/**
 * @param {string} root
 * @param {string} path
 * @returns {string[]} the files under `path` (or `path` itself), relative to root, `/`-separated
 */
function filesOf(root, path) {
  const relativePath = relative(root, path).split(sep).join('/');
  if (NOT_INPUTS.includes(relativePath) || !existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [relativePath];
  return readdirSync(path).flatMap((name) => filesOf(root, join(path, name)));
}

/**
 * @param {string} root the project folder
 * @returns {string} a hash of every input file's path and content
 */
function sourceFingerprint(root) {
  const files = INPUTS.flatMap((input) => filesOf(root, join(root, input))).sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(root, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

/**
 * @param {string} root
 * @param {string} fingerprint the sources' fingerprint now
 */
function isBuildCurrent(root, fingerprint = sourceFingerprint(root)) {
  const stamp = join(root, STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint;
}

/**
 * Builds unless `ifStale` and the last build read exactly the files there are now. The
 * fingerprint is taken before building, so a file changed during a build makes the next run
 * build again.
 * @param {string} root
 * @param {{ ifStale: boolean, build: () => boolean, log: (line: string) => void }} options
 * @returns {boolean} whether dist/ is a build of the current sources
 */
function buildIfNeeded(root, { ifStale, build, log }) {
  const fingerprint = sourceFingerprint(root);
  if (ifStale && isBuildCurrent(root, fingerprint)) return true;
  if (ifStale) log('building: the sources changed since the last build (or there is none)');
  if (!build()) return false;
  writeFileSync(join(root, STAMP), fingerprint);
  return true;
}

/** `nest build`, its output on stderr so that a command's own output stays alone on stdout. */
function nestBuild(/** @type {string} */ root) {
  const nest = require.resolve('@nestjs/cli/bin/nest.js', { paths: [root] });
  const result = spawnSync(process.execPath, [nest, 'build'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  return result.status === 0;
}

module.exports = { INPUTS, STAMP, buildIfNeeded, isBuildCurrent, sourceFingerprint };

if (require.main === module) {
  const root = join(__dirname, '..');
  const ok = buildIfNeeded(root, {
    ifStale: process.argv.includes('--if-stale'),
    build: () => nestBuild(root),
    log: (line) => console.error(line),
  });
  process.exitCode = ok ? 0 : 1;
}
