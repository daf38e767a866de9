#!/usr/bin/env node
// npm run test:arm64: the linux-arm64 prebuilt binary (prebuilds/linux-arm64, from `npm run prebuild`) run for real,
// on an arm64 Node under qemu-user, on this x64 machine:
//   1. scripts/prebuild-smoke.mjs fits one model of every native family with the x64 binary and with the arm64 one
//      and compares predictions (relative 2e-3) and top-10 lists (90% overlap);
//   2. the suite's native part (test/native.test.ts, test/core, test/models without the deep models, test/io,
//      test/eval) runs under vitest on the emulated Node against the arm64 binary.
// The arm64 Node is Debian trixie's nodejs (20.x) with its libraries, unpacked from Debian's packages into a cache
// folder (apt-get download with a private apt state: nothing is installed on this machine). npm's own arm64 Node
// builds (18, 20, 22) do not start under qemu-user 7.2 or 10.0: they spin in a libc lock during their bundled
// OpenSSL's start-up; Debian's links the system OpenSSL and starts. vitest's own native pieces (rolldown, esbuild)
// are installed for arm64 in a scratch copy of the project (npm ci --cpu=arm64). Emulated workers cannot start
// child processes of the arm64 Node (no binfmt_misc here), so vitest runs with worker threads and the few tests that
// spawn a Node child are left out (LEFT_OUT below); they run natively in npm test.
// Needs: qemu-user (apt), debian-archive-keyring, prebuilds/linux-arm64 and dist/ (npm run build:ts).
//   node scripts/test-arm64.mjs [test files...]   only these test files (default: the native part, as above)
//   RECSYS_ARM64_CACHE  where the sysroot and the scratch project live (default ~/.cache/recsys-test-arm64)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.RECSYS_ARM64_CACHE ?? join(homedir(), '.cache', 'recsys-test-arm64');
const SUITE = 'trixie';
// Left out, with the reason. Test files that start a Node child process (process.execPath), which an emulated
// worker cannot exec; the corrupted-file sweep (every bit flip of every model file: 5 min emulated; the file
// format code it exercises is the same TS on every platform); and the abort-latency bounds (milliseconds).
const LEFT_OUT = new Map([
  ['test/core/gc.test.ts', 'spawns Node'],
  ['test/core/validation.test.ts', 'spawns Node'],
  ['test/core/dispatch.test.ts', 'spawns Node'],
  ['test/io/atomic.test.ts', 'spawns Node'],
  ['test/io/crafted.test.ts', 'spawns Node'],
  ['test/io/corrupt.test.ts', 'slow emulated'],
  ['test/core/cancel.test.ts', 'bounds abort latency in ms, which emulation stretches'],
]);

function fail(msg) {
  console.error(`test:arm64: ${msg}`);
  process.exit(1);
}
function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
}

if (process.platform !== 'linux' || process.arch !== 'x64') fail('runs on Linux x64 (it emulates arm64 with qemu-user)');
const binary = join(root, 'prebuilds', 'linux-arm64', 'recsys.napi.glibc.node');
if (!existsSync(binary)) fail(`no ${binary}; run \`npm run prebuild\` first`);
if (!existsSync(join(root, 'dist', 'index.js'))) fail('no dist/; run `npm run build:ts` first');
if (spawnSync('qemu-aarch64', ['--version']).status !== 0) fail('qemu-aarch64 not found; apt-get install qemu-user');
const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
if (!existsSync(keyring)) fail(`${keyring} not found; apt-get install debian-archive-keyring`);

/** Debian trixie's arm64 nodejs and every library it needs, unpacked into <cache>/sysroot-trixie (once). */
function sysroot() {
  const dir = join(cache, `sysroot-${SUITE}`);
  const done = join(dir, '.complete');
  if (existsSync(done)) return dir;
  rmSync(dir, { recursive: true, force: true });
  const apt = join(cache, `apt-${SUITE}`);
  for (const d of ['etc/apt/preferences.d', 'etc/apt/sources.list.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'debs']) {
    mkdirSync(join(apt, d), { recursive: true });
  }
  writeFileSync(join(apt, 'etc/apt/sources.list'), `deb [arch=arm64 signed-by=${keyring}] http://deb.debian.org/debian ${SUITE} main\n`);
  const opts = [
    '-o',
    `Dir=${apt}`,
    '-o',
    'Dir::State::status=/dev/null',
    '-o',
    'APT::Architecture=arm64',
    '-o',
    'APT::Architectures=arm64',
    '-o',
    'Debug::NoLocking=1',
    '-o',
    'APT::Sandbox::User=root',
  ];
  console.log(`test:arm64: fetching Debian ${SUITE}'s arm64 nodejs into ${dir}`);
  sh('apt-get', [...opts, '-qq', 'update'], { stdio: 'inherit' });
  const deps = sh('apt-cache', [
    ...opts,
    'depends',
    '--recurse',
    '--no-recommends',
    '--no-suggests',
    '--no-conflicts',
    '--no-breaks',
    '--no-replaces',
    '--no-enhances',
    'nodejs',
  ])
    .split('\n')
    .filter((l) => /^[a-z0-9]/.test(l));
  const debs = join(apt, 'debs');
  sh('apt-get', [...opts, '-qq', 'download', ...new Set(deps)], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(debs).filter((f) => f.endsWith('.deb'))) sh('dpkg-deb', ['-x', join(debs, f), dir]);
  // Merged /usr: the packages put libc in usr/lib; qemu -L looks for /lib/ld-linux-aarch64.so.1 under the root.
  for (const l of ['lib', 'bin']) if (!existsSync(join(dir, l))) symlinkSync(`usr/${l}`, join(dir, l));
  writeFileSync(done, '');
  return dir;
}

/** A scratch copy of the project (tracked files, dist/, the arm64 binary) with arm64 devDependencies. */
function project() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const dir = join(cache, 'project');
  const stamp = join(dir, '.lock-hash');
  const hash = createHash('sha256').update(lock).digest('hex');
  const keepModules = existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;
  for (const e of existsSync(dir) ? readdirSync(dir) : []) if (!(keepModules && e === 'node_modules')) rmSync(join(dir, e), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = sh('git', ['ls-files', '-z'], { cwd: root }).split('\0').filter(Boolean);
  for (const f of files) if (existsSync(join(root, f))) cpSync(join(root, f), join(dir, f), { recursive: true });
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(root, 'prebuilds', 'linux-arm64'), join(dir, 'prebuilds', 'linux-arm64'), { recursive: true });
  if (!keepModules) {
    console.log('test:arm64: npm ci --cpu=arm64 (scratch project)');
    sh('npm', ['ci', '--cpu=arm64', '--os=linux', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    writeFileSync(stamp, hash);
  }
  return dir;
}

const sys = sysroot();
const proj = project();
const node = join(sys, 'usr', 'bin', 'node');
const env = { ...process.env, PREBUILDS_ONLY: '1', OPENBLAS_NUM_THREADS: '1' };
const arm = (args, opts = {}) => spawnSync('qemu-aarch64', ['-L', sys, node, ...args], { cwd: proj, env, encoding: 'utf8', maxBuffer: 256 << 20, ...opts });

const version = arm(['-p', 'process.arch + " " + process.version']);
if (version.status !== 0) fail(`the emulated Node did not start: ${version.stderr}`);
console.log(`test:arm64: node ${version.stdout.trim()} under ${sh('qemu-aarch64', ['--version']).split('\n')[0]}`);

// 1. The same fits on both binaries. The x64 reference uses this tree's own addon (source build or prebuilt).
const reference = join(proj, 'x64.json');
writeFileSync(reference, sh(process.execPath, [join(root, 'scripts', 'prebuild-smoke.mjs')], { cwd: root }));
const smoke = arm(['scripts/prebuild-smoke.mjs', '--compare', reference], { stdio: 'inherit' });
if (smoke.status !== 0) fail('the arm64 binary disagrees with the x64 one (above)');

// 2. The native part of the suite.
const chosen = process.argv.slice(2);
const tests = chosen.length
  ? chosen
  : [
      'test/native.test.ts',
      ...['test/core', 'test/models', 'test/io', 'test/eval'].flatMap((d) =>
        readdirSync(join(proj, d))
          .filter((f) => f.endsWith('.test.ts'))
          .map((f) => `${d}/${f}`),
      ),
    ].filter((f) => !LEFT_OUT.has(f));
const leftOut = [...LEFT_OUT].map(([f, why]) => `${f} (${why})`).join(', ');
console.log(`test:arm64: vitest on the emulated Node, ${tests.length} files; left out: ${leftOut}`);
const suite = arm(['node_modules/vitest/vitest.mjs', 'run', '--pool=threads', '--testTimeout=900000', '--hookTimeout=900000', ...tests], { stdio: 'inherit' });
if (suite.status !== 0) fail('the native tests failed on arm64 (above)');
console.log('test:arm64: the arm64 binary passed the smoke comparison and the native tests');
