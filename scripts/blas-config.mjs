#!/usr/bin/env node
// Build configuration for binding.gyp, one place for every choice the native build makes.
//   node scripts/blas-config.mjs mode <arch>     -> "openblas" | "static" | "builtin"
//   node scripts/blas-config.mjs cflags <arch>   -> compiler flags for the chosen BLAS
//   node scripts/blas-config.mjs libs <arch>     -> linker flags for the chosen BLAS
//   node scripts/blas-config.mjs version <arch>  -> the OpenBLAS version ("0.3.21", "0.3.21 static")
//   node scripts/blas-config.mjs sources         -> every native/**/*.cc, so a new model file needs no gyp edit
//   node scripts/blas-config.mjs arch <arch>     -> the -march flag: a portable baseline unless RECSYS_MARCH is set
//   node scripts/blas-config.mjs dispatch <arch> -> 1 when the hot kernels get run-time ISA dispatch, else 0
// <arch> is node-gyp's target_arch (x64, arm64, ...; the host's when omitted).
// RECSYS_BLAS: auto (default: OpenBLAS when pkg-config finds it, else the built-in kernels) | none | openblas (fails
// loudly when pkg-config cannot find it) | static (Debian's libopenblas.a, pthread flavour, and the C++ runtime linked
// in: what npm run prebuild uses, so the binary needs no system BLAS, libgfortran or libstdc++, and glibc >= 2.28).
// RECSYS_MARCH: unset = x86-64-v2 (x64) / armv8-a (arm64) with run-time dispatch of the hot kernels to AVX2/AVX-512
// (native/core/dispatch.h); RECSYS_MARCH=native builds for this machine only (no dispatch; may crash elsewhere).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function pkgConfig(...args) {
  try {
    return execFileSync('pkg-config', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The Debian multiarch triple of a node-gyp target_arch (only the two the prebuilt binaries cover). */
function triple(arch) {
  const t = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[arch];
  if (!t) throw new Error(`RECSYS_BLAS=static supports x64 and arm64 Linux, not ${arch}`);
  return t;
}

/** Debian's static OpenBLAS (libopenblas-pthread-dev) for `arch`: include dir, link inputs, version. */
function staticOpenblas(arch) {
  const t = triple(arch);
  const libdir = `/usr/lib/${t}/openblas-pthread`;
  const lib = join(libdir, 'libopenblas.a');
  if (!existsSync(lib)) {
    const pkg = arch === process.arch ? 'libopenblas-pthread-dev' : `libopenblas-pthread-dev:${arch === 'x64' ? 'amd64' : arch}`;
    throw new Error(`RECSYS_BLAS=static: ${lib} not found (apt-get install ${pkg})`);
  }
  const pc = readFileSync(join(libdir, 'pkgconfig', 'openblas.pc'), 'utf8');
  const version = /^version=(.*)$/m.exec(pc)?.[1]?.trim() ?? 'unknown';
  // Its LAPACK half is Fortran, but the routines we call need one function of the GNU Fortran runtime, and Debian's
  // libgfortran.a cannot go into a shared object (local-exec TLS): native/core/fortran_runtime.cc provides it.
  const libs = [lib];
  return { include: `/usr/include/${t}/openblas-pthread`, libs, version };
}

// What native/core/glibc_compat.cc forwards to an older glibc version (the static build links with --wrap for each).
const glibcWraps = [
  ...['create', 'join', 'detach', 'once', 'key_create', 'key_delete', 'getspecific', 'setspecific'].map((f) => `pthread_${f}`),
  ...['rdlock', 'wrlock', 'unlock'].map((f) => `pthread_rwlock_${f}`),
  'pthread_getaffinity_np',
  'pthread_setaffinity_np',
  ...['exp', 'exp2', 'log', 'log2', 'pow'],
  'arc4random',
  'fstat64',
];

export function blasMode(env = process.env) {
  const want = (env.RECSYS_BLAS ?? 'auto').toLowerCase();
  if (want === 'none' || want === 'builtin') return 'builtin';
  if (want === 'static') return 'static';
  const found = pkgConfig('--exists', 'openblas') !== null;
  if (want === 'openblas' && !found) {
    throw new Error('RECSYS_BLAS=openblas but pkg-config cannot find openblas (apt-get install libopenblas-dev pkg-config)');
  }
  return found ? 'openblas' : 'builtin';
}

/** The -march flag for node-gyp's target_arch: RECSYS_MARCH when set, else the portable baseline. */
export function marchFlag(arch, env = process.env) {
  if (env.RECSYS_MARCH) return `-march=${env.RECSYS_MARCH}`;
  return { x64: '-march=x86-64-v2', arm64: '-march=armv8-a' }[arch] ?? '';
}

/** Run-time dispatch (GCC target_clones) where it exists: the x64 baseline build with GCC on Linux. */
function dispatch(arch) {
  if (process.env.RECSYS_MARCH || arch !== 'x64' || process.platform !== 'linux') return false;
  try {
    const v = execFileSync(process.env.CXX || 'g++', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return !/clang/i.test(v);
  } catch {
    return false;
  }
}

export function sources(dir = join(root, 'native')) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.cc')) out.push(relative(root, p));
  }
  return out;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
const what = isMain ? process.argv[2] : undefined;
if (what) {
  const arch = process.argv[3] || process.arch;
  const mode = blasMode();
  const st = mode === 'static' && ['cflags', 'libs', 'version'].includes(what) ? staticOpenblas(arch) : null;
  switch (what) {
    case 'mode':
      console.log(mode === 'builtin' ? 'builtin' : 'openblas');
      break;
    case 'cflags':
      console.log(
        st ? `-I${st.include} -DRECSYS_OPENBLAS_STATIC=1 -DRECSYS_GLIBC_COMPAT=1` : mode === 'openblas' ? (pkgConfig('--cflags', 'openblas') ?? '') : '',
      );
      break;
    case 'libs':
      // --exclude-libs: OpenBLAS's symbols stay inside the addon, so another BLAS in the same process cannot clash.
      // libstdc++ goes in too (libgcc_s, part of every glibc system, stays shared), and the glibc functions whose
      // newest versions are past 2.28 are wrapped (native/core/glibc_compat.cc) so the binary loads on glibc >= 2.28.
      console.log(
        st
          ? `${st.libs.join(' ')} -static-libstdc++ -Wl,--exclude-libs,ALL ${glibcWraps.map((f) => `-Wl,--wrap=${f}`).join(' ')} -lm`
          : mode === 'openblas'
            ? (pkgConfig('--libs', 'openblas') ?? '')
            : '',
      );
      break;
    case 'version':
      console.log(st ? `${st.version} static` : mode === 'openblas' ? (pkgConfig('--modversion', 'openblas') ?? '') : '');
      break;
    case 'sources':
      console.log(sources().join(' '));
      break;
    case 'arch':
      console.log(marchFlag(arch));
      break;
    case 'dispatch':
      console.log(dispatch(arch) ? '1' : '0');
      break;
    default:
      console.error(`unknown query ${what}`);
      process.exit(2);
  }
}
