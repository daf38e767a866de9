#!/usr/bin/env node
// npm run prebuild: the prebuilt binaries the npm package ships, one Node-API binary per platform that serves every
// Node version the package supports (20, 22, 24), loaded by node-gyp-build from prebuilds/<platform>-<arch>/.
//   node scripts/prebuild.mjs [--arch x64,arm64]
// Runs on Debian bookworm x64 (what CI runs). Each binary links Debian's static OpenBLAS (RECSYS_BLAS=static: its
// DYNAMIC_ARCH kernels pick the CPU at run time) and the C++ runtime, so it asks the user's machine for glibc >= 2.28
// and libgcc_s only (native/core/glibc_compat.cc), and compiles our kernels for the portable baseline with run-time dispatch (scripts/blas-config.mjs). arm64 is cross
// compiled with g++-aarch64-linux-gnu against libopenblas-dev:arm64 (apt, with dpkg --add-architecture arm64).
// Each binary is checked: its dynamic dependencies, the newest glibc symbol version it needs, and, on x64, that it
// loads and reports OpenBLAS. build/ is removed at the end (it holds the last cross build), so node-gyp-build loads
// the prebuilt binaries until npm run build:native makes a source build again.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildFromSource } from './install.mjs';

const root = join(import.meta.dirname, '..');
const at = process.argv.indexOf('--arch');
const arches = (at >= 0 ? process.argv[at + 1] : 'x64,arm64').split(',');
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('prebuild: runs on Linux x64 (Debian bookworm, as CI); other platforms install from source');
  process.exit(1);
}

const toolchains = {
  x64: { prefix: '', triple: 'x86_64-linux-gnu' },
  arm64: {
    prefix: 'aarch64-linux-gnu-',
    triple: 'aarch64-linux-gnu',
    apt: 'g++-aarch64-linux-gnu libopenblas-dev:arm64 (after dpkg --add-architecture arm64)',
  },
};

/** The newest GLIBC_x.y the binary asks for and its NEEDED libraries, from readelf. */
function inspect(file, prefix) {
  const readelf = `${prefix}readelf`;
  const needed = [...execFileSync(readelf, ['-d', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\).*\[(.*)\]/g)].map((m) => m[1]);
  const versions = [...execFileSync(readelf, ['-V', '-W', file], { encoding: 'utf8' }).matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
  const [major, minor] = versions.sort((a, b) => b[0] - a[0] || b[1] - a[1])[0] ?? [0, 0];
  return { needed, glibc: `${major}.${minor}` };
}

for (const arch of arches) {
  const tc = toolchains[arch];
  if (!tc) throw new Error(`prebuild: no toolchain for ${arch} (x64 and arm64 are built)`);
  const env = { ...process.env, RECSYS_BLAS: 'static' };
  delete env.RECSYS_MARCH; // the portable baseline, whatever the shell says
  if (tc.prefix) {
    try {
      execFileSync(`${tc.prefix}g++`, ['--version'], { stdio: 'ignore' });
    } catch {
      console.error(`prebuild: ${tc.prefix}g++ not found; apt-get install ${tc.apt}`);
      process.exit(1);
    }
    Object.assign(env, { CC: `${tc.prefix}gcc`, CXX: `${tc.prefix}g++`, LINK: `${tc.prefix}g++`, AR: `${tc.prefix}ar` });
  }
  console.log(`prebuild: linux-${arch}`);
  await buildFromSource({ arch, env, out: { write: (l) => console.log(l), error: (l) => console.error(l), close: () => {} } });
  const dir = join(root, 'prebuilds', `linux-${arch}`);
  mkdirSync(dir, { recursive: true });
  // napi: one binary for every Node-API Node; glibc: node-gyp-build does not offer it to musl (Alpine) systems.
  const file = join(dir, 'recsys.napi.glibc.node');
  copyFileSync(join(root, 'build', 'Release', 'recsys.node'), file);
  execFileSync(`${tc.prefix}strip`, ['--strip-unneeded', file]);
  const { needed, glibc } = inspect(file, tc.prefix);
  const unwanted = needed.filter((n) => !/^(libc|libm|libpthread|libdl|libgcc_s|ld-linux.*)\.so/.test(n));
  console.log(`prebuild: ${file}: ${(statSync(file).size / 1e6).toFixed(1)} MB, needs ${needed.join(' ')}, glibc >= ${glibc}`);
  if (unwanted.length) throw new Error(`prebuild: ${file} needs ${unwanted.join(', ')}; the prebuilt binary may ask for glibc and libgcc_s only`);
  const [major, minor] = glibc.split('.').map(Number);
  if (major > 2 || minor > 28) throw new Error(`prebuild: ${file} needs glibc ${glibc}; a function is missing from native/core/glibc_compat.cc`);
  if (arch === process.arch) {
    const out = execFileSync(process.execPath, ['-e', `const a = require(${JSON.stringify(file)}); console.log(JSON.stringify(a.info()))`], {
      encoding: 'utf8',
    });
    const i = JSON.parse(out);
    if (!/^openblas .* static$/.test(i.blas) || !i.dispatch) throw new Error(`prebuild: ${file} reports ${out}`);
    console.log(`prebuild: loads: ${i.blas}, kernels ${i.simd} here (${i.archFlag} + run-time dispatch)`);
  }
}
if (existsSync(join(root, 'build'))) rmSync(join(root, 'build'), { recursive: true });
console.log('prebuild: done; build/ removed, so prebuilds/ is what loads now (npm run build:native for a source build)');
