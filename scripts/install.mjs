#!/usr/bin/env node
// Install step of the npm package: use the prebuilt binary from prebuilds/ when one fits this platform (nothing to
// compile), else build the addon from source with node-gyp against the running Node's own headers (no download).
//   node scripts/install.mjs          the prebuilt binary if one loads here, else build
//   node scripts/install.mjs --force  always build from source (npm run build:native); so does RECSYS_BUILD_FROM_SOURCE=1
// A source build shows one line per compiled file and ends with one line naming the BLAS and SIMD level it chose.
// npm hides an install script's output from `npm install` unless it fails, so when npm runs this script without a
// terminal on stdout the progress goes to the terminal itself (/dev/tty), when there is one.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blasMode, marchFlag, sources } from './blas-config.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The node-gyp entry point to run (the one place that says where node-gyp comes from). node-gyp is not a
 * dependency of recsys: npm carries its own and names it in npm_config_node_gyp for lifecycle scripts (npm
 * install, npm run); outside npm, or with an npm that does not set it, the repository's devDependency.
 */
export function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    throw new Error('node-gyp not found (run the build through npm, which carries it, or npm install node-gyp)');
  }
}

/** Where progress lines go: stdout, or the terminal when npm captures stdout. */
function progressWriter() {
  if (!process.stdout.isTTY && process.env.npm_lifecycle_event === 'install') {
    try {
      const fd = openSync('/dev/tty', 'w');
      return {
        write: (line) => writeSync(fd, `${line}\n`),
        // npm shows the captured stderr of a failed install script: errors go there too.
        error: (line) => (writeSync(fd, `${line}\n`), console.error(line)),
        close: () => closeSync(fd),
      };
    } catch {
      // no controlling terminal (CI): npm shows stdout when the script fails or with --foreground-scripts
    }
  }
  return { write: (line) => console.log(line), error: (line) => console.error(line), close: () => {} };
}

/** The addon's info() after loading it from `file`, or the reason it cannot load here. */
function probe(file) {
  try {
    return { info: require(file).info() };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

/** "OpenBLAS 0.3.21 static, kernels avx512 (-march=x86-64-v2 + run-time dispatch)" from the addon's info(). */
export function describe(info) {
  const blas = info.openblas ? `OpenBLAS ${info.blas.replace(/^openblas /, '')}` : 'built-in BLAS kernels (no OpenBLAS)';
  return `${blas}, kernels ${info.simd} (${info.archFlag || 'default -march'}${info.dispatch ? ' + run-time dispatch' : ''})`;
}

/**
 * Builds build/Release/recsys.node from source with node-gyp. `arch` is node-gyp's target arch (a cross build
 * when it is not the host's; the caller sets CC/CXX in `env`). Shows progress through `out`; resolves to the
 * build's wall time in seconds, rejects with the build's last output when it fails.
 */
export async function buildFromSource({ arch = process.arch, env = process.env, out = progressWriter() } = {}) {
  // Headers of the Node that runs this script: <prefix>/include/node, e.g. /usr/include/node or ~/.nvm/versions/node/vX/include/node.
  const prefix = resolve(dirname(process.execPath), '..');
  const args = [nodeGyp(), 'rebuild', `--arch=${arch}`, `--jobs=${Math.max(1, Math.min(4, availableParallelism()))}`];
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  else out.write(`recsys: no Node headers under ${join(prefix, 'include', 'node')}; node-gyp will try to download them`);
  const total = sources().length;
  const mode = blasMode(env);
  const blas = { openblas: 'OpenBLAS found by pkg-config', static: 'OpenBLAS linked statically', builtin: 'built-in BLAS kernels' }[mode];
  out.write(`recsys: compiling the native addon (${total} files, ${blas}, ${marchFlag(arch, env) || 'default -march'}); takes 1-5 minutes`);
  const start = Date.now();
  const log = [];
  let done = 0;
  const status = await new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        log.push(line);
        if (log.length > 200) log.shift();
        const m = /CXX\(target\) Release\/obj\.target\/recsys\/(\S+)\.o$/.exec(line.trim());
        if (m) out.write(`recsys: [${++done}/${total}] ${m[1]}.cc (${Math.round((Date.now() - start) / 1000)} s)`);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', fail);
    child.on('close', (code) => ok(code));
  });
  if (status !== 0) {
    throw new Error(`native build failed (exit ${status}); its last lines:\n${log.slice(-40).join('\n')}`);
  }
  return (Date.now() - start) / 1000;
}

async function main() {
  const out = progressWriter();
  const force = process.argv.includes('--force') || process.env.RECSYS_BUILD_FROM_SOURCE === '1';
  if (!force) {
    let found = null;
    try {
      found = require('node-gyp-build').path(root);
    } catch {
      // no prebuilt binary for this platform and no earlier build
    }
    // `npx recsys` inside a clone of this repository installs the package into npx's cache as a link to the clone,
    // and npm runs its install script there (npm_command=exec): keep the addon built by the clone's npm install.
    const reuse = found && (found.includes(`${join(root, 'prebuilds')}`) || process.env.npm_command === 'exec');
    if (reuse) {
      const p = probe(found);
      if (p.info) {
        console.log(`recsys: using ${relative(root, found)}: ${describe(p.info)}`);
        out.close();
        return;
      }
      out.write(`recsys: the prebuilt ${relative(root, found)} does not load here (${p.error}); building from source`);
    } else {
      out.write(`recsys: no prebuilt binary for ${process.platform}-${process.arch}; building from source`);
    }
  }
  try {
    const seconds = await buildFromSource({ out });
    // A sanitizer build (npm run test:asan) loads only with the sanitizer runtimes preloaded: not probed here.
    if (/-fsanitize=/.test(`${process.env.CXXFLAGS ?? ''} ${process.env.CFLAGS ?? ''}`)) {
      out.write(`recsys: built the native addon in ${Math.round(seconds)} s (sanitizer build, not loaded here)`);
      out.close();
      return;
    }
    const p = probe(join(root, 'build', 'Release', 'recsys.node'));
    if (!p.info) throw new Error(`the built addon does not load: ${p.error}`);
    out.write(`recsys: built the native addon in ${Math.round(seconds)} s: ${describe(p.info)}`);
    if (!p.info.openblas) {
      out.write(
        'recsys: for OpenBLAS (faster ALS, SVD, EASE) install libopenblas-dev and pkg-config, then npm rebuild recsys (npm run build:native in a clone)',
      );
    }
  } catch (e) {
    out.error(`recsys: ${e instanceof Error ? e.message : String(e)}`);
    out.error('recsys: a C++17 compiler, make and python3 are needed to build from source (README "Installing")');
    out.close();
    process.exit(1);
  }
  out.close();
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (isMain) await main();
