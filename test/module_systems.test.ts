// recsys as a consumer gets it from npm, loaded both ways: dist/ built by scripts/build-ts.mjs into a scratch package,
// packed with `npm pack` (so package.json's `files` and `exports` are what is checked) and unpacked into a scratch
// app's node_modules, with this checkout's addon (build/) and dependencies linked in rather than installed. The app
// fits the same tiny ImplicitALS from CommonJS JS (require), ES module JS (import) and TypeScript compiled --strict
// for module commonjs, node16 (an .mts and a .cts file: both `exports` entries and their `types`) and bundler
// resolution (type-checked only). node16 rather than nodenext: nodenext lets a CommonJS file import an ES module
// (require(esm)), so a require entry that pointed at the ES build would pass there and fail on Node 20.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, ImplicitALS, RecsysError, info } from '../ts/index.js';
import { tempDir } from './io/helpers.js';

const execFileAsync = promisify(execFile);
/** Runs a command; a failure says what it printed (tsc writes its errors to stdout). */
async function exec(cmd: string, args: string[], options: { cwd?: string } = {}): Promise<{ stdout: string }> {
  try {
    return await execFileAsync(cmd, args, { ...options, encoding: 'utf8' });
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    throw new Error(`${[cmd, ...args].join(' ')} failed:\n${stdout}${stderr}`, { cause: e });
  }
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const tmp = tempDir('recsys-package-');
const app = tmp.path('app');
afterAll(() => tmp.remove());

// The consumer's program, valid as JavaScript and as strict TypeScript: 20 users in two taste groups (even users
// take items i0-i9, odd ones i10-i19), each with one item of its group held out, which must come top.
const program = `
const users = Array.from({ length: 20 }, (_, u) => u);
const pairs = users.flatMap((u) => Array.from({ length: 9 }, (_, j) => [\`u\${u}\`, \`i\${(u % 2) * 10 + ((u + 1 + j) % 10)}\`]));
const data = Dataset.fromArrays({ users: pairs.map((p) => p[0]), items: pairs.map((p) => p[1]) });
const model = new ImplicitALS({ factors: 4, iterations: 8, threads: 1, seed: 7 }).fit(data);
const top = users.map((u) => model.recommend(\`u\${u}\`, { k: 1 })[0].item);
let code = 'none';
try {
  model.recommend('nobody', { k: 1 });
} catch (e) {
  code = e instanceof RecsysError ? e.code : 'not a RecsysError';
}
console.log(JSON.stringify({ version: info().version, top, code }));
`;
const imports = 'Dataset, ImplicitALS, RecsysError, info';

/** The same fit in this process, from the sources. */
function reference(): unknown {
  const users = Array.from({ length: 20 }, (_, u) => u);
  const pairs = users.flatMap((u) => Array.from({ length: 9 }, (_, j) => [`u${u}`, `i${(u % 2) * 10 + ((u + 1 + j) % 10)}`] as const));
  const data = Dataset.fromArrays({ users: pairs.map((p) => p[0]), items: pairs.map((p) => p[1]) });
  const model = new ImplicitALS({ factors: 4, iterations: 8, threads: 1, seed: 7 }).fit(data);
  const top = users.map((u) => model.recommend(`u${u}`, { k: 1 })[0]!.item);
  let code = 'none';
  try {
    model.recommend('nobody', { k: 1 });
  } catch (e) {
    code = e instanceof RecsysError ? e.code : 'not a RecsysError';
  }
  return { version: info().version, top, code };
}

// TypeScript consumers: strict, as `tsc --init` would have them. skipLibCheck because @tensorflow/tfjs's and pino's
// own .d.ts files fail --strict (issue 13 item 2 takes TensorFlow.js out of recsys's .d.ts); a recsys entry or
// type that did not resolve is still an error in the consumer's file.
const compilerOptions = { target: 'es2022', strict: true, esModuleInterop: true, skipLibCheck: true, types: ['node'] };
const projects: Record<string, { module: string; moduleResolution?: string; files: string[]; outDir?: string }> = {
  commonjs: { module: 'commonjs', files: ['src/main.ts'], outDir: 'out-commonjs' },
  node16: { module: 'node16', files: ['src/main.mts', 'src/main.cts'], outDir: 'out-node16' },
  bundler: { module: 'preserve', moduleResolution: 'bundler', files: ['src/main.ts'] },
};
// Each test awaits its own compilation: long timeouts for a busy machine (three tsc side by side, 5-15 s each idle).
const compiled: Record<string, Promise<{ stdout: string }>> = {};

async function node(file: string): Promise<unknown> {
  const { stdout } = await exec(process.execPath, [file], { cwd: app });
  return JSON.parse(stdout) as unknown;
}

beforeAll(async () => {
  // The package as `npm pack` makes it from a checkout with dist/ built.
  const stage = tmp.path('stage');
  mkdirSync(stage);
  writeFileSync(join(stage, 'package.json'), readFileSync(join(root, 'package.json')));
  await exec(process.execPath, [join(root, 'scripts', 'build-ts.mjs'), join(stage, 'dist')]);
  const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp.dir], { cwd: stage });
  const tarball = join(tmp.dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);

  const pkg = join(app, 'node_modules', 'recsys');
  mkdirSync(pkg, { recursive: true });
  await exec('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  for (const dir of ['build', 'prebuilds', 'node_modules']) if (existsSync(join(root, dir))) symlinkSync(join(root, dir), join(pkg, dir));
  symlinkSync(join(root, 'node_modules', '@types'), join(app, 'node_modules', '@types'));
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');

  writeFileSync(join(app, 'fit.cjs'), `const { ${imports} } = require('recsys');\n${program}`);
  writeFileSync(join(app, 'fit.mjs'), `import { ${imports} } from 'recsys';\n${program}`);
  // One process, both ways in: the same module (one copy, RecsysError the same class), with the same names.
  writeFileSync(
    join(app, 'both.mjs'),
    `import * as esm from 'recsys';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('recsys');
// Node's ES view of a CommonJS module adds __esModule (tsc's marker) and, on Node 24, 'module.exports'.
const names = (m) => Object.keys(m).filter((k) => k !== '__esModule' && k !== 'module.exports').sort();
console.log(JSON.stringify({ esm: names(esm), cjs: names(cjs), sameError: esm.RecsysError === cjs.RecsysError, sameModel: esm.ImplicitALS === cjs.ImplicitALS }));
`,
  );
  mkdirSync(join(app, 'src'));
  for (const ext of ['ts', 'mts', 'cts']) writeFileSync(join(app, 'src', `main.${ext}`), `import { ${imports} } from 'recsys';\n${program}`);
  for (const [name, { files, outDir, ...options }] of Object.entries(projects)) {
    const config = { compilerOptions: { ...compilerOptions, ...options, ...(outDir ? { outDir } : { noEmit: true }) }, files };
    writeFileSync(join(app, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
    // Side by side (each takes seconds); every test awaits its own.
    const run = exec(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: app });
    run.catch(() => {}); // reported by the test that awaits it
    compiled[name] = run;
  }
}, 300_000);

describe('the packed package, from both module systems', () => {
  const expected = reference();

  it('the reference fit puts each user’s held-out item first (so the consumers below are compared with a right answer)', () => {
    const top = Array.from({ length: 20 }, (_, u) => `i${(u % 2) * 10 + (u % 10)}`);
    expect(expected).toEqual({ version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version, top, code: 'E_UNKNOWN_USER' });
  });

  it('require() from CommonJS JavaScript', async () => {
    expect(await node('fit.cjs')).toEqual(expected);
  });

  it('import from an ES module', async () => {
    expect(await node('fit.mjs')).toEqual(expected);
  });

  it('import and require in one process get one copy with the same names', async () => {
    const both = (await node('both.mjs')) as { esm: string[]; cjs: string[]; sameError: boolean; sameModel: boolean };
    expect(both.esm).toEqual(both.cjs);
    expect(both.cjs).toEqual(expect.arrayContaining(['Dataset', 'ImplicitALS', 'RecsysError', 'createServer', 'loadModel', 'NeuMF']));
    expect(both.sameError).toBe(true);
    expect(both.sameModel).toBe(true);
  });

  it('TypeScript, module commonjs (main and types, no exports map): compiles strict and runs', async () => {
    await compiled.commonjs;
    expect(await node('out-commonjs/main.js')).toEqual(expected);
  }, 240_000);

  it('TypeScript, module node16: an ES module and a CommonJS file compile strict and run', async () => {
    await compiled.node16;
    expect(await node('out-node16/main.mjs')).toEqual(expected);
    expect(await node('out-node16/main.cjs')).toEqual(expected);
  }, 240_000);

  it('TypeScript, moduleResolution bundler: type-checks strict', async () => {
    await expect(compiled.bundler).resolves.toBeDefined();
  }, 240_000);
});
