// Issue 12 item 1: what the native input check costs. Every fit checks its matrices in full before it starts
// (indptr monotone from 0 to nnz, every index in [0, cols), sorted and unique rows, finite values): in place for a
// sync fit, on a native copy of indptr/indices for fitAsync (the copy is what the worker thread reads).
// addon._checkCsr runs exactly that step. Target: <= 2% of the cheapest fit that does it, BaselineOnly (ALS,
// 10 epochs; it checks train and trainTransposed). Popularity (one counting pass) does not run this check: it
// bounds-checks each index as it counts it, so it is listed for scale only.
// A sealed dataset (built natively, its arrays never handed out: ts/data/dataset.ts) skips the check: the last
// column times the same fit on a freshly loaded, sealed copy of the data, beside the checked fit's time.
//
//   npm run bench:validate [-- --runs 5 --threads 1]
//
// ML-100K and ML-1M come from the shared datasets folder (RECSYS_DATA_DIR or ../shared/datasets; skipped with a
// message when absent); the 10M matrix is generated (power-law-ish item popularity, ratings 1..5).
import { loadavg } from 'node:os';
import { BaselineOnly, Dataset, IdMap, ItemKNN, Popularity, loadMovieLens } from '../ts/index.js';
import { addon } from '../ts/native.js';
import { median, parseOptions } from './common.js';

const { opts } = parseOptions();
const runs = Number(opts.get('runs') ?? 5);
const threads = Number(opts.get('threads') ?? 1);

function time(fn: () => unknown, n = runs): number {
  const t: number[] = [];
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

function generated(users: number, items: number, nnz: number): Dataset {
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const rows = new Int32Array(nnz),
    cols = new Int32Array(nnz),
    vals = new Float32Array(nnz);
  for (let p = 0; p < nnz; p++) {
    rows[p] = Math.floor(rnd() * users);
    cols[p] = Math.floor(items * rnd() ** 3); // popular items first
    vals[p] = 1 + Math.floor(rnd() * 5);
  }
  const ids = (n: number) => new IdMap(Array.from({ length: n }, (_, i) => i));
  return Dataset.fromCoo(ids(users), ids(items), rows, cols, vals);
}

const sets: Array<[string, () => Promise<Dataset>]> = [
  ['ML-100K', () => loadMovieLens('ml-100k', { itemInfo: false })],
  ['ML-1M', () => loadMovieLens('ml-1m', { itemInfo: false })],
  ['generated 10M', async () => generated(200_000, 50_000, 10_000_000)],
];

console.log(
  `runs ${runs} (medians), fit threads ${threads}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log('sync: the check as a sync fit runs it (in place); async: as fitAsync runs it (copy, then check)');
console.log('dataset          nnz        check train+csc: sync    async    fit                      fit ms   sync/fit  async/fit  sealed fit ms');
for (const [name, load] of sets) {
  let ds: Dataset;
  try {
    ds = await load();
  } catch (e) {
    console.log(`${name}: skipped (${(e as Error).message.split('\n')[0]})`);
    continue;
  }
  const sealed = await load(); // its arrays are never read here: it stays sealed
  const csr = ds.csr,
    csc = ds.csc;
  const checkS = time(() => (addon._checkCsr(csr), addon._checkCsr(csc)), runs * 3);
  const checkA = time(() => (addon._checkCsr(csr, { async: true }), addon._checkCsr(csc, { async: true })), runs * 3);
  const fits: Array<[string, (d: Dataset) => unknown, number]> = [
    // [name, fit, 2 = runs the full check of train and trainTransposed, 0 = does not]
    ['BaselineOnly (als)', (d) => new BaselineOnly({ threads }).fit(d), 2],
    ['ItemKNN (k=50)', (d) => new ItemKNN({ threads, k: 50 }).fit(d), 2],
    ['Popularity', (d) => new Popularity().fit(d), 0],
  ];
  for (const [fname, fit, m] of fits) {
    if (name === 'generated 10M' && fname.startsWith('ItemKNN')) continue; // minutes on 2 shared vCPUs
    const n = name === 'generated 10M' ? Math.min(runs, 3) : runs;
    const f = time(() => fit(ds), n);
    const fs = time(() => fit(sealed), n);
    const pct = (c: number) => (m === 2 ? `${((100 * c) / f).toFixed(2)}%` : '-');
    console.log(
      `${name.padEnd(16)} ${String(csr.indices.length).padEnd(10)} ${checkS.toFixed(2).padStart(18)} ms ${checkA.toFixed(2).padStart(7)} ms   ${fname.padEnd(24)} ${f.toFixed(1).padStart(8)} ${pct(checkS).padStart(9)} ${pct(checkA).padStart(10)} ${fs.toFixed(1).padStart(14)}`,
    );
  }
}
