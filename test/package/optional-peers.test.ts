// TensorFlow.js and DuckDB are optional peers of recsys: a copy of the package whose node_modules lacks
// @tensorflow/* and @duckdb/* (as a consumer's does after a plain npm install) imports, fits, saves and loads every
// C++ model and runs the CLI, while a deep model — constructed, loaded from a file, or asked for by the CLI — and
// the DuckDB readers raise E_DEPENDENCY with their npm install line. The copy is real files (ts/, package.json)
// beside symlinks to every other installed package, so Node's own resolution, not a stub, is what fails to find them.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GMF } from '../../ts/models/deep/ncf.js';
import { plantedDataset } from '../../ts/data/synthetic.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
// The versions we test with (devDependencies), which the message must name.
const INSTALL = `npm install @tensorflow/tfjs@${pkg.devDependencies['@tensorflow/tfjs']} @tensorflow/tfjs-backend-wasm@${pkg.devDependencies['@tensorflow/tfjs-backend-wasm']}`;
const DUCKDB = `npm install @duckdb/node-api@${pkg.devDependencies['@duckdb/node-api']} @duckdb/node-bindings@${pkg.devDependencies['@duckdb/node-bindings']}`;
const OPTIONAL = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@duckdb/node-api', '@duckdb/node-bindings'];

let copy = '';

function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: copy, encoding: 'utf8', env: { ...process.env, RECSYS_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cli(...args: string[]) {
  return node(['ts/cli/main.ts', ...args]);
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'recsys-no-peers-'));
  cpSync(join(repo, 'ts'), join(copy, 'ts'), { recursive: true });
  cpSync(join(repo, 'package.json'), join(copy, 'package.json'));
  cpSync(join(repo, 'tsconfig.json'), join(copy, 'tsconfig.json'));
  for (const native of ['build', 'prebuilds']) if (existsSync(join(repo, native))) symlinkSync(join(repo, native), join(copy, native), 'dir');
  mkdirSync(join(copy, 'node_modules'));
  for (const name of readdirSync(join(repo, 'node_modules'))) {
    if (name === '@tensorflow' || name === '@duckdb' || name.startsWith('.')) continue;
    symlinkSync(join(repo, 'node_modules', name), join(copy, 'node_modules', name), 'dir');
  }
  // A deep model file, written here where TensorFlow.js is installed, for the copy to try to load.
  new GMF({ factors: 4, epochs: 1 }).fit(plantedDataset({ users: 20, items: 15, perUser: 4 })).save(join(copy, 'gmf.recsys'));
  const lines = [];
  for (let u = 0; u < 40; u++) for (let j = 0; j < 6; j++) lines.push(`${u}\t${(u * 7 + j * 3) % 30}\t${1 + ((u + j) % 5)}\t${1000 + j}`);
  writeFileSync(join(copy, 'u.data'), lines.join('\n') + '\n');
  writeFileSync(join(copy, 'u.csv'), 'user,item\n1,2\n');
});

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('without TensorFlow.js and DuckDB installed', () => {
  it('package.json lists them as optional peers at the tested versions, not as dependencies', () => {
    const all = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; optionalDependencies?: unknown };
    expect(all.optionalDependencies).toBeUndefined();
    for (const p of OPTIONAL) {
      expect(all.dependencies[p], p).toBeUndefined();
      expect(pkg.peerDependencies[p], p).toBe(pkg.devDependencies[p]);
      expect(pkg.peerDependenciesMeta[p]?.optional, p).toBe(true);
    }
    expect(INSTALL).toMatch(/^npm install @tensorflow\/tfjs@\d+\.\d+\.\d+ @tensorflow\/tfjs-backend-wasm@\d+\.\d+\.\d+$/);
    expect(DUCKDB).toMatch(/^npm install @duckdb\/node-api@\d+\.\d+\.\d+\S* @duckdb\/node-bindings@\d+\.\d+\.\d+\S*$/);
  });

  it('recsys imports, the C++ models fit, save, load and recommend, and every deep model and DuckDB reader raises E_DEPENDENCY', () => {
    const script = `
      import { createRequire } from 'node:module';
      import * as r from './ts/index.ts';
      const resolvable = ${JSON.stringify(OPTIONAL)}.filter((p) => { try { createRequire(import.meta.url).resolve(p); return true; } catch { return false; } });
      const data = r.plantedDataset({ users: 60, items: 40, perUser: 8 });
      const out = { resolvable, recs: {}, deep: {}, listed: r.models.map((m) => m.name) };
      for (const M of [r.ImplicitALS, r.BPR, r.LightGCN, r.EASE, r.SANSA, r.ItemKNN, r.PureSVD, r.BiasedMF, r.Popularity]) {
        const m = new M({ threads: 1 }).fit(data);
        m.save('m.recsys');
        out.recs[m.name] = r.loadModel('m.recsys').recommend(data.users.id(0), { k: 3 }).length;
      }
      const code = (f) => { try { f(); return 'ok'; } catch (e) { return e.code + ': ' + e.message; } };
      for (const M of [r.NeuMF, r.GMF, r.MLP, r.MultVAE, r.AutoRec, r.RecVAE]) out.deep[M.name] = code(() => new M());
      out.deep.loadModel = code(() => r.loadModel('gmf.recsys'));
      out.deep.registry = code(() => r.modelEntry('NeuMF').create());
      out.deep.initDeepBackend = await r.initDeepBackend().then(() => 'ok', (e) => e.code + ': ' + e.message);
      out.duckdb = await r.Dataset.fromCsv('u.csv').then(() => 'ok', (e) => e.code + ': ' + e.message);
      out.loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@tensorflow') || k.includes('@duckdb'));
      console.log(JSON.stringify(out));`;
    const r = node(['--input-type=module', '-e', script]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      resolvable: string[];
      duckdb: string;
      recs: Record<string, number>;
      deep: Record<string, string>;
      listed: string[];
      loaded: string[];
    };
    expect(out.resolvable).toEqual([]);
    expect(out.loaded).toEqual([]);
    expect(out.recs).toEqual({ ImplicitALS: 3, BPR: 3, LightGCN: 3, EASE: 3, SANSA: 3, ItemKNN: 3, PureSVD: 3, BiasedMF: 3, Popularity: 3 });
    // The registry still lists the deep models (their tasks come from the class, not from TensorFlow.js).
    expect(out.listed).toEqual(expect.arrayContaining(['NeuMF', 'GMF', 'MLP', 'MultVAE', 'AutoRec', 'RecVAE']));
    for (const name of ['NeuMF', 'GMF', 'MLP', 'MultVAE', 'AutoRec', 'RecVAE']) {
      expect(out.deep[name]).toBe(
        `E_DEPENDENCY: ${name} needs TensorFlow.js, an optional dependency of recsys that is not installed here; install it with: ${INSTALL}`,
      );
    }
    expect(out.deep.loadModel).toBe(
      `E_DEPENDENCY: GMF needs TensorFlow.js, an optional dependency of recsys that is not installed here; install it with: ${INSTALL}`,
    );
    expect(out.deep.registry).toMatch(/^E_DEPENDENCY: NeuMF needs/);
    expect(out.duckdb).toMatch(/^E_DEPENDENCY: this needs DuckDB, an optional dependency of recsys that is not installed here \(.*\); install it with: /);
    expect(out.duckdb.endsWith(`install it with: ${DUCKDB}`)).toBe(true);
    expect(out.deep.initDeepBackend).toBe(
      `E_DEPENDENCY: initDeepBackend needs TensorFlow.js, an optional dependency of recsys that is not installed here; install it with: ${INSTALL}`,
    );
  });

  it('the CLI: info says the deep backend is not available, train fits a C++ model, train --model NeuMF names the install line', () => {
    const info = cli('info');
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/^BLAS: /m);
    expect(info.stdout).toContain(
      `deep:     not available: TensorFlow.js (optional) is not installed; for NeuMF, GMF, MLP, MultVAE, AutoRec and RecVAE: ${INSTALL}`,
    );
    const json = cli('info', '--json');
    expect(json.status, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { deep: unknown }).deep).toEqual({ available: false, install: INSTALL });

    const als = cli('train', '--data', 'u.data', '--model', 'als', '--set', 'factors=4', '--out', 'als.recsys', '--json');
    expect(als.status, als.stderr).toBe(0);
    expect((JSON.parse(als.stdout) as { model: string }).model).toBe('ImplicitALS');
    const rec = cli('recommend', '--model', 'als.recsys', '--user', '1', '--k', '2', '--json');
    expect(rec.status, rec.stderr).toBe(0);

    const deep = cli('train', '--data', 'u.data', '--model', 'NeuMF', '--out', 'ncf.recsys');
    expect(deep.status).toBe(1);
    expect(deep.stderr.trim()).toBe(
      `recsys: NeuMF needs TensorFlow.js, an optional dependency of recsys that is not installed here; install it with: ${INSTALL} (E_DEPENDENCY)`,
    );
    expect(existsSync(join(copy, 'ncf.recsys'))).toBe(false);
  });
});
