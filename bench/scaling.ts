// Fit time and peak RSS against data size: generated power-law interactions (bench/powerlaw.ts) at 1M, 10M and
// 50M, users = n / 100 and items = n / 500 (so every size has the same mean activity and popularity), for
// ImplicitALS, BPR, BiasedMF (ratings 1..5 hashed from the pair) and the randomized truncated SVD. Each dataset
// is generated once and stored as a raw CSR in a temp dir; each (model, size) fit runs in its own child process,
// so its peak RSS (data + model) is its own. Reports the exponent b of time ~ a * interactions^b.
//
//   npm run bench:scaling [-- --sizes 1e6,1e7,5e7 --models ImplicitALS,BPR --threads 0 --epochs 3]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataset, IdMap, modelEntry, truncatedSVD } from '../ts/index.js';
import { powerLawExponent, type ScalingResult, type ScalingRow } from '../ts/report/results.js';
import { describeInfo, fmt, freeMemoryGB, listOption, load1, mergeRows, parseOptions, peakRssMB, RESULTS_DIR, runInfo, table, writeResult } from './common.js';
import { scalingMarkdown, updateBenchmarksMd } from './markdown.js';
import { powerLawDataset } from './powerlaw.js';

const { opts } = parseOptions();
const threads = Number(opts.get('threads') ?? 0);
const epochs = Number(opts.get('epochs') ?? 3);
const MODELS = ['ImplicitALS', 'BPR', 'BiasedMF', 'truncatedSVD'];
const shape = (n: number) => ({ users: Math.round(n / 100), items: Math.round(n / 500) });

function saveCsr(dir: string, n: number): void {
  const { users, items } = shape(n);
  const ds = powerLawDataset({ users, items, interactions: n, seed: 42 });
  writeFileSync(join(dir, `${n}.indptr`), ds.csr.indptr);
  writeFileSync(join(dir, `${n}.indices`), ds.csr.indices);
}

function loadCsr(dir: string, n: number, ratings: boolean): Dataset {
  const { users, items } = shape(n);
  const buf = (name: string) => {
    const b = readFileSync(join(dir, `${n}.${name}`));
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  const indptr = buf('indptr'),
    indices = buf('indices');
  let data: Float32Array | undefined;
  if (ratings) {
    // A rating 1..5 from a hash of the pair: no structure to learn, the same work per epoch.
    data = new Float32Array(indices.length);
    for (let u = 0; u < users; u++)
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) data[p] = 1 + (((Math.imul(u, 0x9e3779b1) ^ Math.imul(indices[p]!, 0x85ebca6b)) >>> 29) % 5);
  }
  const ids = (k: number) => new IdMap(Array.from({ length: k }, (_, i) => i));
  return new Dataset(ids(users), ids(items), { rows: users, cols: items, indptr, indices, data });
}

function child(model: string, n: number, dir: string): ScalingRow {
  const ds = loadCsr(dir, n, model === 'BiasedMF');
  const t0 = performance.now();
  if (model === 'ImplicitALS') modelEntry(model).create({ factors: 64, iterations: epochs, threads }).fit(ds);
  else if (model === 'BPR') modelEntry(model).create({ factors: 64, epochs, threads }).fit(ds);
  else if (model === 'BiasedMF') modelEntry(model).create({ factors: 100, epochs, threads }).fit(ds);
  else truncatedSVD(ds, 64, { threads });
  const fitSeconds = (performance.now() - t0) / 1000;
  return {
    model,
    interactions: n,
    users: ds.nUsers,
    items: ds.nItems,
    fitSeconds,
    peakRssMB: peakRssMB(),
    epochs: model === 'truncatedSVD' ? undefined : epochs,
  };
}

const childArg = opts.get('child');
if (childArg) {
  const [model, n] = childArg.split(':');
  console.log(JSON.stringify(child(model!, Number(n), opts.get('dir')!)));
} else {
  const sizes = (opts.get('sizes') ?? '1e6,1e7,5e7').split(',').map(Number);
  const wanted = listOption(opts.get('models'));
  const models = MODELS.filter((m) => !wanted || wanted.includes(m.toLowerCase()));
  const ri = runInfo(threads, [
    `generated power-law data (activity ~ rank^-0.5, popularity ~ rank^-0.8), users = n/100, items = n/500; ImplicitALS 64 factors CG, BPR 64 factors, BiasedMF 100 factors: ${epochs} epochs each; truncatedSVD rank 64, 4 power iterations`,
    'peak RSS = the whole child process: the stored CSR as loaded, the model and its work space',
  ]);
  console.log(`scaling benchmark, ${threads || 'all'} threads; ${describeInfo(ri)}`);
  const dir = mkdtempSync(join(tmpdir(), 'recsys-scaling-'));
  const rows: ScalingRow[] = [];
  const self = fileURLToPath(import.meta.url);
  try {
    for (const n of sizes) {
      // Generation in this process needs about 40 bytes per interaction; children about 10-30.
      const needGB = (n * 40) / 2 ** 30 + 1;
      if (freeMemoryGB() < needGB) {
        const why = `skipped: ${freeMemoryGB().toFixed(1)} GB free, about ${needGB.toFixed(1)} GB needed`;
        console.log(`${n.toLocaleString('en-US')} interactions: ${why}`);
        for (const m of models) rows.push({ model: m, interactions: n, ...shape(n), fitSeconds: NaN, peakRssMB: NaN, error: why });
        continue;
      }
      const g0 = performance.now();
      saveCsr(dir, n);
      console.log(
        `${n.toLocaleString('en-US')} interactions (${shape(n).users.toLocaleString('en-US')} x ${shape(n).items.toLocaleString('en-US')}): generated in ${((performance.now() - g0) / 1000).toFixed(1)} s`,
      );
      for (const m of models) {
        let row: ScalingRow;
        const load = load1();
        try {
          const out = execFileSync(
            process.execPath,
            ['--import', 'tsx', self, '--child', `${m}:${n}`, '--dir', dir, `--threads=${threads}`, `--epochs=${epochs}`],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
          );
          row = JSON.parse(out.trim().split('\n').pop()!) as ScalingRow;
        } catch (err) {
          const e = err as { stderr?: string; signal?: string; message: string };
          row = {
            model: m,
            interactions: n,
            ...shape(n),
            fitSeconds: NaN,
            peakRssMB: NaN,
            error: e.signal ? `killed (${e.signal})` : (e.stderr || e.message).trim().split('\n').slice(-2).join(' '),
          };
        }
        row.load = load;
        rows.push(row);
        console.log(
          `  ${m.padEnd(13)} ${row.error ? `FAILED: ${row.error}` : `fit ${fmt(row.fitSeconds, 2)} s${row.epochs ? ` (${fmt(row.fitSeconds / row.epochs, 3)} s/epoch)` : ''}, peak RSS ${fmt(row.peakRssMB, 0)} MB`}`,
        );
      }
      for (const ext of ['indptr', 'indices']) if (existsSync(join(dir, `${n}.${ext}`))) rmSync(join(dir, `${n}.${ext}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A filtered run (--models / --sizes) updates its rows of bench/results/scaling.json and keeps the others.
  const merged =
    !opts.get('out') && (wanted || opts.get('sizes')) ? mergeRows(join(RESULTS_DIR, 'scaling.json'), rows, (r) => `${r.model}|${r.interactions}`) : rows;
  merged.sort((a, b) => MODELS.indexOf(a.model) - MODELS.indexOf(b.model) || a.interactions - b.interactions);
  const exponents: Record<string, number> = {};
  for (const m of MODELS) {
    const pts = merged.filter((r) => r.model === m && !r.error).map((r): [number, number] => [r.interactions, r.fitSeconds]);
    if (pts.length > 0) exponents[m] = powerLawExponent(pts);
  }
  const result: ScalingResult = { kind: 'scaling', info: ri, rows: merged, exponents };
  console.log('\nexponent b of fit time ~ a * interactions^b:');
  console.log(
    table(
      ['model', 'b'],
      Object.entries(exponents).map(([m, b]) => [m, fmt(b, 2)]),
    ),
  );
  const path = writeResult('scaling', result, opts.get('out'));
  console.log(`\nwrote ${path}`);
  if (!opts.get('out')) console.log(`updated ${updateBenchmarksMd('scaling', scalingMarkdown(result))}`);
}
