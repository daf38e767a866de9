// Native kernels against straightforward plain-TypeScript versions of the same algorithms on the same data
// (bench/reference/*, including the SGD epoch in sgd_mf.ts, and ts/eval/reference.ts — the code the tests use as oracles).
// Median milliseconds from tinybench; the native side on one thread and on all hardware threads.
//
//   npm run bench [-- --only als,bpr --time 1500 --out bench/results/kernels.json]
//
// Epoch kernels (SGD, ALS, BPR) time one epoch: the native fit runs two epochs and reports the second one's
// duration from its progress callback (so factor initialisation and data checks are not counted); the TS side
// runs one epoch of its reference on a copy of the same initial factors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { BiasedMF, BPR, Dataset, evaluate, FactorModel, ImplicitALS, info, perUserSplit, truncatedSVD, type FitProgress, type Scorer } from '../ts/index.js';
import { addon } from '../ts/native.js';
import { referenceEvaluate } from '../ts/eval/reference.js';
import { biasedMfEpoch } from './reference/sgd_mf.js';
import type { KernelsResult } from '../ts/report/results.js';
import { alsSweep } from './reference/als.js';
import { bprEpoch } from './reference/bpr.js';
import { buildCsrRef } from './reference/csr.js';
import { refParse } from './reference/parse.js';
import { randomizedSvdRef } from './reference/svd.js';
import { recommendBatchRef } from './reference/topk.js';
import { describeInfo, listOption, parseOptions, runInfo, table, writeResult } from './common.js';
import { kernelsMarkdown, updateBenchmarksMd } from './markdown.js';
import { powerLawDataset } from './powerlaw.js';

const { opts } = parseOptions();
const only = listOption(opts.get('only'));
const time = Number(opts.get('time') ?? 1000);
const all = info().defaultThreads;

interface Kernel {
  key: string;
  kernel: string;
  data: string;
  ts: () => unknown;
  /** Native at a thread count; may return the measured milliseconds (epoch kernels). */
  native: (threads: number) => unknown;
  multiThreaded: boolean;
}

/** Deterministic uniform [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** The duration of epoch 2 of a two-epoch fit, from its progress reports. */
function secondEpochMs(fit: (onProgress: (p: FitProgress) => void) => void): { overriddenDuration: number } {
  const s: number[] = [];
  fit((p) => s.push(p.seconds));
  return { overriddenDuration: (s[1]! - s[0]!) * 1000 };
}

const kernels: Kernel[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'recsys-kernels-'));

// ---- CSR build: 1M (user, item, rating) triples with duplicates, 50k x 10k ------------------------------------
{
  const n = 1_000_000,
    rows = 50_000,
    cols = 10_000,
    rnd = lcg(1);
  const r = Int32Array.from({ length: n }, () => Math.floor(rnd() * rows));
  const c = Int32Array.from({ length: n }, () => Math.floor(rnd() ** 2 * cols));
  const v = Float32Array.from({ length: n }, () => 1 + Math.floor(rnd() * 5));
  kernels.push({
    key: 'csr',
    kernel: 'CSR build (duplicates: last)',
    data: '1M triples, 50k x 10k',
    ts: () => buildCsrRef(rows, cols, r, c, v),
    native: () => addon.buildCsr(rows, cols, r, c, v, undefined, 'last'),
    multiThreaded: false,
  });
}

// ---- file parsing: 300k lines in the ml-100k layout ------------------------------------------------------------
{
  const lines = 300_000,
    rnd = lcg(2);
  const parts: string[] = [];
  for (let k = 0; k < lines; k++)
    parts.push(
      `${1 + Math.floor(rnd() * 20000)}\t${1 + Math.floor(5000 * rnd() ** 2)}\t${1 + Math.floor(rnd() * 5)}\t${874724710 + Math.floor(rnd() * 2e7)}\n`,
    );
  const path = join(tmp, 'ratings.data');
  writeFileSync(path, parts.join(''));
  const options = { delimiter: '\t', quote: false, header: false, fields: 4, columns: { user: 0, item: 1, rating: 2, timestamp: 3 } };
  kernels.push({
    key: 'parse',
    kernel: 'parse a ratings file (read, ids, CSR)',
    data: '300k lines, ml-100k layout, 7.4 MB',
    ts: () => {
      const r = refParse(readFileSync(path), options);
      if (!r.ok) throw new Error(r.why);
    },
    native: () => Dataset.fromFile(path, { format: 'movielens-100k' }),
    multiThreaded: false,
  });
}

// ---- one SGD epoch of BiasedMF: 500k ratings, 6k users x 4k items, 100 factors (Surprise SVD's default) -------
{
  const base = powerLawDataset({ users: 6000, items: 4000, interactions: 500_000, seed: 3 });
  const rnd = lcg(3);
  const coo = base.toCoo();
  const ratings = Float32Array.from({ length: base.nnz }, () => 1 + Math.floor(rnd() * 5));
  const ds = Dataset.fromCoo(base.users, base.items, coo.rows, coo.cols, ratings);
  const p = { factors: 100, lr: 0.005, reg: 0.02, seed: 7 };
  const init = new BiasedMF({ ...p, epochs: 0 }).fit(ds).nativeModel.state();
  const st = (name: string) => init[name]!.data as Float32Array;
  const mu = init.global_bias!.data[0]!;
  kernels.push({
    key: 'sgd',
    kernel: 'BiasedMF: one SGD epoch',
    data: '500k ratings, 6k x 4k, 100 factors',
    ts: () =>
      biasedMfEpoch(
        ds.csr,
        { factors: 100, U: st('user_factors').slice(), V: st('item_factors').slice(), bu: st('user_bias').slice(), bi: st('item_bias').slice(), mu },
        { lr: 0.005, reg: 0.02 },
      ),
    // Ratings in user-by-user order as the reference visits them (shuffle off; one block on one thread: exactly
    // the reference's order, the grid's blocks on all threads).
    native: (threads) =>
      secondEpochMs((onProgress) => new BiasedMF({ ...p, shuffle: false, epochs: 2, threads, blocks: threads === 1 ? 1 : 0 }).fit(ds, { onProgress })),
    multiThreaded: true,
  });
}

// ---- one ImplicitALS sweep: 300k interactions, 20k users x 5k items, 64 factors, 3 CG steps --------------------
{
  const ds = powerLawDataset({ users: 20_000, items: 5000, interactions: 300_000, seed: 4 });
  const p = { factors: 64, reg: 0.01, alpha: 1, binary: true, seed: 7 };
  const init = new ImplicitALS({ ...p, iterations: 0 }).fit(ds);
  const U0 = init.userFactors!,
    V0 = init.itemFactors!;
  const csc = ds.csc;
  kernels.push({
    key: 'als',
    kernel: 'ImplicitALS: one sweep (CG, 3 steps)',
    data: '300k interactions, 20k x 5k, 64 factors',
    ts: () => alsSweep(ds.csr, csc, U0.slice(), V0.slice(), { factors: 64, reg: 0.01, alpha: 1, solver: 'cg', cgSteps: 3, binary: true }),
    native: (threads) => secondEpochMs((onProgress) => new ImplicitALS({ ...p, iterations: 2, threads }).fit(ds, { onProgress })),
    multiThreaded: true,
  });
}

// ---- one BPR epoch: 1M interactions, 50k users x 10k items, 64 factors -----------------------------------------
{
  const ds = powerLawDataset({ users: 50_000, items: 10_000, interactions: 1_000_000, seed: 5 });
  const p = { factors: 64, lr: 0.05, reg: 0.01, seed: 7 };
  const init = new BPR({ ...p, epochs: 0 }).fit(ds).nativeModel.state();
  const st = (name: string) => init[name]!.data as Float32Array;
  kernels.push({
    key: 'bpr',
    kernel: 'BPR: one epoch',
    data: '1M interactions, 50k x 10k, 64 factors',
    ts: () =>
      bprEpoch(
        ds.csr,
        { factors: 64, U: st('user_factors').slice(), V: st('item_factors').slice(), itemBias: st('item_bias').slice() },
        { lr: 0.05, reg: 0.01, seed: 7, epoch: 0 },
      ),
    native: (threads) => secondEpochMs((onProgress) => new BPR({ ...p, epochs: 2, threads }).fit(ds, { onProgress })),
    multiThreaded: true,
  });
}

// ---- randomized SVD: rank 32, 4 power iterations, 200k interactions, 10k x 4k ---------------------------------
{
  const ds = powerLawDataset({ users: 10_000, items: 4000, interactions: 200_000, seed: 6 });
  kernels.push({
    key: 'svd',
    kernel: 'randomized SVD, rank 32, 4 power its',
    data: '200k interactions, 10k x 4k',
    ts: () => randomizedSvdRef(ds.csr, 32, { powerIterations: 4 }),
    native: (threads) => truncatedSVD(ds, 32, { powerIterations: 4, threads }),
    multiThreaded: true,
  });
}

// ---- top-K for a batch: 256 users, 20k items x 64 factors, 50 seen items each ----------------------------------
{
  const nUsers = 256,
    nItems = 20_000,
    f = 64,
    rnd = lcg(7);
  const U = Float32Array.from({ length: nUsers * f }, () => rnd() * 2 - 1);
  const V = Float32Array.from({ length: nItems * f }, () => rnd() * 2 - 1);
  const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
  const base = FactorModel.fromFactors({ users: ids(nUsers), items: ids(nItems), factors: f, userFactors: U, itemFactors: V });
  const su: number[] = [],
    si: number[] = [];
  for (let u = 0; u < nUsers; u++)
    for (let j = 0; j < 50; j++) {
      su.push(u);
      si.push(Math.floor(rnd() * nItems));
    }
  const seen = Dataset.fromCoo(base.trainData.users, base.trainData.items, Int32Array.from(su), Int32Array.from(si));
  const model = (threads: number) =>
    FactorModel.fromFactors({ users: base.trainData.users, items: base.trainData.items, factors: f, userFactors: U, itemFactors: V, seen, threads });
  const m1 = model(1),
    mAll = model(0);
  const batch = Int32Array.from(ids(nUsers));
  kernels.push({
    key: 'topk',
    kernel: 'top-10 for a batch of users',
    data: '256 users, 20k items x 64 factors',
    ts: () => recommendBatchRef(U, V, f, batch, 10, seen.csr),
    native: (threads) => (threads === 1 ? m1 : mAll).recommendBatchDense(batch, { k: 10 }),
    multiThreaded: true,
  });
}

// ---- ranking metrics: P/R/NDCG/MAP@10 of 2000 users over 3000 items, scores given -----------------------------
{
  const ds = powerLawDataset({ users: 2000, items: 3000, interactions: 120_000, seed: 8 });
  const { train, test } = perUserSplit(ds, { testFraction: 0.2, seed: 1 });
  const rnd = lcg(8);
  const all = Float32Array.from({ length: ds.nUsers * ds.nItems }, () => rnd());
  // Precomputed scores, so both sides time the metrics and nothing else.
  const scorer: Scorer = {
    trainData: train,
    scoreUsersDense: (users) => {
      const out = new Float32Array(users.length * ds.nItems);
      users.forEach((u, r) => out.set(all.subarray(u * ds.nItems, (u + 1) * ds.nItems), r * ds.nItems));
      return out;
    },
    predictDense: (users) => new Float32Array(users.length),
  };
  const o = { k: 10, metrics: ['precision', 'recall', 'ndcg', 'map'] as const };
  kernels.push({
    key: 'metrics',
    kernel: 'ranking metrics P/R/NDCG/MAP@10',
    data: '2000 users x 3000 items, scores given',
    ts: () => referenceEvaluate(scorer, test, { ...o, metrics: [...o.metrics] }),
    native: (threads) => evaluate(scorer, test, { ...o, metrics: [...o.metrics], threads }),
    multiThreaded: true,
  });
}

const chosen = kernels.filter((k) => !only || only.includes(k.key));
const ri = runInfo(0, ['native = the recsys kernel; TS = the plain-TypeScript reference of the same algorithm (one thread)']);
console.log(`kernel benchmark: tinybench medians, at least ${time} ms per task; ${describeInfo(ri)}`);
const bench = new Bench({ time, iterations: 5, warmup: true, warmupIterations: 1 });
for (const k of chosen) {
  bench.add(`${k.key}:ts`, () => k.ts());
  bench.add(`${k.key}:native1`, () => k.native(1));
  if (k.multiThreaded && all > 1) bench.add(`${k.key}:nativeAll`, () => k.native(0));
}
await bench.run();
rmSync(tmp, { recursive: true, force: true });

const med = (name: string): number | undefined => {
  const t = bench.tasks.find((x) => x.name === name);
  const r = t?.result as { latency?: { p50?: number }; error?: Error } | undefined;
  if (r?.error) throw r.error;
  return r?.latency?.p50;
};
const result: KernelsResult = { kind: 'kernels', info: ri, rows: [] };
for (const k of chosen) {
  result.rows.push({
    kernel: k.kernel,
    data: k.data,
    tsMs: med(`${k.key}:ts`)!,
    native1Ms: med(`${k.key}:native1`)!,
    nativeAllMs: med(`${k.key}:nativeAll`),
    allThreads: all,
  });
}
const x = (a: number, b?: number) => (b === undefined ? '—' : `${(a / b).toFixed(1)}x`);
console.log(
  table(
    ['kernel', 'data', 'TS ms', 'native 1T ms', `native ${all}T ms`, 'TS / native 1T', `TS / native ${all}T`],
    result.rows.map((r) => [
      r.kernel,
      r.data,
      r.tsMs.toFixed(1),
      r.native1Ms.toFixed(2),
      r.nativeAllMs?.toFixed(2) ?? '—',
      x(r.tsMs, r.native1Ms),
      x(r.tsMs, r.nativeAllMs),
    ]),
  ),
);
const path = writeResult('kernels', result, opts.get('out'));
console.log(`\nwrote ${path}; load average after: ${result.info.loadavgAfter?.join(' ')}`);
if (!opts.get('out') && !only) console.log(`updated ${updateBenchmarksMd('kernels', kernelsMarkdown(result))}`);
