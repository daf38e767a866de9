#!/usr/bin/env node
// Build configuration for binding.gyp, one place for every choice the native build makes.
//   node scripts/blas-config.mjs mode     -> "openblas" | "builtin"
//   node scripts/blas-config.mjs cflags   -> compiler flags for the chosen BLAS
//   node scripts/blas-config.mjs libs     -> linker flags for the chosen BLAS
//   node scripts/blas-config.mjs sources  -> every native/**/*.cc, so a new model file needs no gyp edit
//   node scripts/blas-config.mjs arch     -> the -march flag (RECSYS_MARCH, default "native")
// RECSYS_BLAS=none forces the built-in kernels; RECSYS_BLAS=openblas fails loudly when pkg-config cannot find it.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

export function blasMode() {
  const want = (process.env.RECSYS_BLAS ?? 'auto').toLowerCase();
  if (want === 'none' || want === 'builtin') return 'builtin';
  const found = pkgConfig('--exists', 'openblas') !== null;
  if (want === 'openblas' && !found) {
    throw new Error('RECSYS_BLAS=openblas but pkg-config cannot find openblas (apt-get install libopenblas-dev pkg-config)');
  }
  return found ? 'openblas' : 'builtin';
}

function sources(dir) {
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
  const mode = blasMode();
  switch (what) {
    case 'mode':
      console.log(mode);
      break;
    case 'cflags':
      console.log(mode === 'openblas' ? (pkgConfig('--cflags', 'openblas') ?? '') : '');
      break;
    case 'libs':
      console.log(mode === 'openblas' ? (pkgConfig('--libs', 'openblas') ?? '') : '');
      break;
    case 'version':
      console.log(mode === 'openblas' ? (pkgConfig('--modversion', 'openblas') ?? '') : '');
      break;
    case 'sources':
      console.log(sources(join(root, 'native')).join(' '));
      break;
    case 'arch':
      console.log(`-march=${process.env.RECSYS_MARCH || 'native'}`);
      break;
    default:
      console.error(`unknown query ${what}`);
      process.exit(2);
  }
}
