// Approximate top-K (issue 15 part 4): an HNSW index over the item factors against exact top-K, on 100k and 1M
// items x 64 factors. Per catalogue: index build time (2 threads), the index's bytes and the process RSS,
// recall@10 against exact, single-user top-10 latency (p50 / p99 of recommend(), the whole call: id mapping,
// filters, search, rescoring) at several efSearch, the same with seen items + an exclude list (holding the exact
// answer's 5 best items for the users whose recall is measured), exact top-K latency,
// and the model file's save / load time with the stored graph.
//
//   npm run bench:ann [-- --items 100000,1000000 --factors 64 --threads 2 --queries 2000 --exact 200 --data planted]
//
// Factors: 'planted' (default) draws users and items around 256 random topic centres (item norms spread like a
// popularity scale), the structure fitted factor models have; 'random' is i.i.d. uniform (the hard case for any
// graph index). Results: bench/results/ann.json and the ANN section of BENCHMARKS.md.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset, FactorModel, loadModel } from '../ts/index.js';
import { listOption, parseOptions, peakRssMB, table } from './common.js';
import { loadavg } from 'node:os';

const { opts } = parseOptions();
const sizes = (listOption(opts.get('items')) ?? ['100000', '1000000']).map(Number);
const f = Number(opts.get('factors') ?? 64);
const threads = Number(opts.get('threads') ?? 2);
const nq = Number(opts.get('queries') ?? 2000);
const nExact = Number(opts.get('exact') ?? 200);
const kind = opts.get('data') ?? 'planted';
const efs = (listOption(opts.get('ef')) ?? ['50', '100', '200']).map(Number);
const M = Number(opts.get('M') ?? 16);
const efC = Number(opts.get('efConstruction') ?? 100);
const save = opts.get('save') !== 'false';

let seed = 12345;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());

function factors(n: number, centres: Float32Array | undefined, scale: boolean): Float32Array {
  const out = new Float32Array(n * f);
  const C = centres ? centres.length / f : 0;
  for (let i = 0; i < n; i++) {
    const s = scale ? Math.exp(0.5 * gauss()) : 1;
    const c = centres ? Math.floor(rnd() * C) : -1;
    for (let d = 0; d < f; d++) out[i * f + d] = centres ? s * (centres[c * f + d]! + 0.7 * gauss()) : rnd() * 2 - 1;
  }
  return out;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0]!.toFixed(1)}] ${s}`);
const rows: (string | number)[][] = [];
const nUsers = 10_000;
for (const nItems of sizes) {
  seed = 12345 + nItems;
  const centres = kind === 'planted' ? Float32Array.from({ length: 256 * f }, gauss) : undefined;
  const U = factors(nUsers, centres, false);
  const V = factors(nItems, centres, kind === 'planted');
  const users = Array.from({ length: nUsers }, (_, u) => u);
  const items = Array.from({ length: nItems }, (_, i) => i);
  // 50 seen items per user, for the filtered runs.
  const su = new Int32Array(nUsers * 50),
    si = new Int32Array(nUsers * 50);
  for (let p = 0; p < su.length; p++) {
    su[p] = Math.floor(p / 50);
    si[p] = Math.floor(rnd() * nItems);
  }
  const exact = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V, annOptions: { ann: 'exact' }, threads: 1 });
  const seen = Dataset.fromCoo(exact.trainData.users, exact.trainData.items, su, si);
  const rss0 = process.memoryUsage().rss;
  log(`${nItems} items x ${f}: building (M ${M}, efConstruction ${efC}, ${threads} threads)`);
  let t = performance.now();
  const approx = FactorModel.fromFactors({
    users: exact.trainData.users,
    items: exact.trainData.items,
    factors: f,
    userFactors: U,
    itemFactors: V,
    seen,
    annOptions: { ann: 'hnsw', annM: M, annEfConstruction: efC, annEfSearch: 100 },
    threads,
  });
  const buildS = (performance.now() - t) / 1000;
  const info = approx.annIndex!;
  const rssAfter = process.memoryUsage().rss;
  log(`built in ${buildS.toFixed(1)} s; index ${(info.bytes / 2 ** 20).toFixed(0)} MiB; RSS +${((rssAfter - rss0) / 2 ** 20).toFixed(0)} MiB`);
  // Exact answers and latency (no seen filter: the exact model has none) for the first nExact users.
  const qs = Array.from({ length: nq }, () => Math.floor(rnd() * nUsers));
  const truth: Set<unknown>[] = [];
  const exactMs: number[] = [];
  for (let j = 0; j < nExact; j++) {
    t = performance.now();
    const r = exact.recommend(qs[j]!, { k: 10 });
    exactMs.push(performance.now() - t);
    truth.push(new Set(r.map((x) => x.item)));
  }
  // Filtered: the user's 50 seen items, a 1,000-item exclude list, and (for the users whose recall is measured) the
  // exact answer's 5 best items, so the filter must act inside the search rather than on its result.
  const truthSeen: Set<unknown>[] = [];
  const exactSeen = FactorModel.fromFactors({
    users: exact.trainData.users,
    items: exact.trainData.items,
    factors: f,
    userFactors: U,
    itemFactors: V,
    seen,
    annOptions: { ann: 'exact' },
    threads: 1,
  });
  const exclude = Array.from({ length: 1000 }, () => Math.floor(rnd() * nItems));
  const excludes: number[][] = [];
  for (let j = 0; j < nExact; j++) {
    const top5 = exactSeen.recommend(qs[j]!, { k: 5 }).map((x) => x.item as number);
    excludes.push([...exclude, ...top5]);
    truthSeen.push(new Set(exactSeen.recommend(qs[j]!, { k: 10, exclude: excludes[j] }).map((x) => x.item)));
  }
  log(`exact top-10: p50 ${pct(exactMs, 0.5).toFixed(2)} ms, p99 ${pct(exactMs, 0.99).toFixed(2)} ms`);
  for (const ef of efs) {
    approx.nativeModel.setAnnSearch!(ef);
    for (const filtered of [false, true]) {
      const ms: number[] = [];
      let rec = 0;
      for (let j = 0; j < nq; j++) {
        const o = filtered ? { k: 10, exclude: excludes[j] ?? exclude } : { k: 10, filterSeen: false };
        t = performance.now();
        const r = approx.recommend(qs[j]!, o);
        ms.push(performance.now() - t);
        if (j < nExact) {
          const want = (filtered ? truthSeen : truth)[j]!;
          rec += r.filter((x) => want.has(x.item)).length / 10;
        }
      }
      const row = [
        nItems,
        f,
        kind,
        ef,
        filtered ? 'seen 50 + exclude 1000 + top 5' : 'none',
        (rec / nExact).toFixed(4),
        pct(ms, 0.5).toFixed(3),
        pct(ms, 0.99).toFixed(3),
        pct(exactMs, 0.5).toFixed(2),
        pct(exactMs, 0.99).toFixed(2),
        buildS.toFixed(1),
        (info.bytes / 2 ** 20).toFixed(0),
      ];
      rows.push(row);
      log(`ef ${ef} filters ${row[4]}: recall@10 ${row[5]}, p50 ${row[6]} ms, p99 ${row[7]} ms`);
    }
  }
  if (save) {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-ann-bench-'));
    try {
      const path = join(dir, 'm.recsys');
      t = performance.now();
      approx.save(path);
      const saveS = (performance.now() - t) / 1000;
      t = performance.now();
      const back = loadModel<FactorModel>(path);
      const loadS = (performance.now() - t) / 1000;
      log(
        `model file ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB: save ${saveS.toFixed(1)} s, load ${loadS.toFixed(1)} s (graph restored: ${back.annIndex !== null}) vs build ${buildS.toFixed(1)} s`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
console.log(
  table(['items', 'factors', 'data', 'efSearch', 'filters', 'recall@10', 'p50 ms', 'p99 ms', 'exact p50', 'exact p99', 'build s', 'index MiB'], rows),
);
console.log(
  `peak RSS ${peakRssMB().toFixed(0)} MB, threads ${threads}, load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
