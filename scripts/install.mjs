#!/usr/bin/env node
// Install step of the npm package: use a prebuilt binary from prebuilds/ when one fits this platform,
// else build the addon from source with node-gyp against the running Node's own headers (no download).
//   node scripts/install.mjs          prebuild if present, else build
//   node scripts/install.mjs --force  always build from source
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blasMode } from './blas-config.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');

if (!force && process.env.RECSYS_FORCE_BUILD !== '1') {
  try {
    const found = require('node-gyp-build').path(root);
    if (found.includes('prebuilds')) {
      console.log(`recsys: using prebuilt addon ${found}`);
      process.exit(0);
    }
  } catch {
    // no prebuild and no local build yet: build below
  }
}

// Headers of the Node that runs this script: <prefix>/include/node, e.g. /usr/include/node or ~/.nvm/versions/node/vX/include/node.
const prefix = resolve(dirname(process.execPath), '..');
const nodedirArgs = [];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  nodedirArgs.push(`--nodedir=${prefix}`);
} else {
  console.warn(`recsys: no Node headers under ${join(prefix, 'include', 'node')}; node-gyp will try to download them`);
}

let mode;
try {
  mode = blasMode();
} catch (e) {
  console.error(`recsys: ${e.message}`);
  process.exit(1);
}
console.log(
  mode === 'openblas'
    ? 'recsys: building the native addon with OpenBLAS (found by pkg-config)'
    : 'recsys: building the native addon with its built-in BLAS kernels (OpenBLAS not found by pkg-config, or RECSYS_BLAS=none)',
);

// node-gyp is not a dependency of recsys: npm carries its own and names it in npm_config_node_gyp for lifecycle
// scripts (npm install, npm run); outside npm, or with an npm that does not set it, the repository's devDependency.
const nodeGyp = findNodeGyp();
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    console.error('recsys: node-gyp not found (run the build through npm, which carries it, or npm install node-gyp)');
    process.exit(1);
  }
}
const jobs = String(Math.max(1, Math.min(4, (await import('node:os')).availableParallelism())));
const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodedirArgs, `--jobs=${jobs}`], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('recsys: native build failed (a C++17 compiler, make and python3 are needed; see README "Building from source")');
  process.exit(r.status ?? 1);
}
