#!/usr/bin/env node
// Smoke test of a native addon on any machine that runs Node (an emulated arm64 one included: vitest's own native
// bindings are x64 only, so the suite cannot run there). Fits one model of each native family on generated data and
// prints, as JSON, what the addon reports about itself and each model's predictions and top-10 lists.
//   node scripts/prebuild-smoke.mjs                 > result.json
//   node scripts/prebuild-smoke.mjs --compare a.json   exits 1 when this run's numbers differ from a.json's
// scripts/prebuild.mjs runs it on each binary it builds (PREBUILDS_ONLY=1 makes node-gyp-build take the prebuilt one)
// and compares the arm64 binary, run under qemu, with the x64 one. Needs dist/ (npm run build:ts).
import { readFileSync } from 'node:fs';
import { BaselineOnly, BiasedMF, BPR, Dataset, EASE, ImplicitALS, info, ItemKNN, NMF, plantedDataset, Popularity, PureSVD, SVDpp } from '../dist/index.js';

const implicit = plantedDataset({ users: 300, items: 200, perUser: 25, seed: 7 });
const coo = implicit.toCoo();
// Ratings 1..5 from a fixed hash of (user, item), so rating models have something to learn.
const ratings = Float32Array.from(coo.rows, (u, p) => 1 + ((u * 7 + coo.cols[p] * 13) % 5));
const rated = Dataset.fromCoo(implicit.users, implicit.items, coo.rows, coo.cols, ratings);

const fits = {
  Popularity: () => new Popularity().fit(implicit),
  BaselineOnly: () => new BaselineOnly().fit(rated),
  'ImplicitALS cg': () => new ImplicitALS({ factors: 32, iterations: 8, seed: 1, threads: 1 }).fit(implicit),
  'ImplicitALS cholesky': () => new ImplicitALS({ factors: 24, iterations: 8, solver: 'cholesky', seed: 1, threads: 1 }).fit(implicit),
  BPR: () => new BPR({ factors: 32, epochs: 5, seed: 1, threads: 1 }).fit(implicit),
  BiasedMF: () => new BiasedMF({ factors: 16, epochs: 5, seed: 1, threads: 1 }).fit(rated),
  SVDpp: () => new SVDpp({ factors: 8, epochs: 3, seed: 1 }).fit(rated),
  NMF: () => new NMF({ factors: 8, epochs: 10, seed: 1 }).fit(rated),
  ItemKNN: () => new ItemKNN({ k: 20 }).fit(implicit),
  EASE: () => new EASE({ lambda: 100 }).fit(implicit),
  PureSVD: () => new PureSVD({ factors: 16, seed: 1 }).fit(implicit),
};

const users = Int32Array.from({ length: 20 }, (_, i) => i * 15);
const pu = Int32Array.from({ length: 100 }, (_, i) => (i * 37) % implicit.nUsers);
const pi = Int32Array.from({ length: 100 }, (_, i) => (i * 53) % implicit.nItems);
const result = { info: info(), models: {} };
for (const [name, fit] of Object.entries(fits)) {
  const m = fit();
  const top = m.recommendBatchDense(users, { k: 10 });
  result.models[name] = { predictions: Array.from(m.predictDense(pu, pi)), top: Array.from(top.items) };
}

const at = process.argv.indexOf('--compare');
if (at < 0) {
  console.log(JSON.stringify(result));
} else {
  // Different SIMD widths and FMA round differently, so numbers agree to a tolerance and top-10 lists by overlap.
  const want = JSON.parse(readFileSync(process.argv[at + 1], 'utf8'));
  const bad = [];
  for (const [name, w] of Object.entries(want.models)) {
    const g = result.models[name];
    const worst = Math.max(...w.predictions.map((x, i) => Math.abs(x - g.predictions[i]) / (1 + Math.abs(x))));
    let same = 0;
    for (let r = 0; r < users.length; r++) {
      const a = new Set(w.top.slice(r * 10, r * 10 + 10));
      same += g.top.slice(r * 10, r * 10 + 10).filter((x) => a.has(x)).length;
    }
    const overlap = same / w.top.length;
    const ok = worst <= 2e-3 && overlap >= 0.9;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(22)} max relative prediction difference ${worst.toExponential(1)}, top-10 overlap ${(overlap * 100).toFixed(1)}%`,
    );
    if (!ok) bad.push(name);
  }
  console.log(`addon: ${result.info.blas}, ${result.info.simd} (${result.info.archFlag}${result.info.dispatch ? ' + dispatch' : ''}), ${process.arch}`);
  if (bad.length) {
    console.log(`smoke: ${bad.length} model(s) differ: ${bad.join(', ')}`);
    process.exit(1);
  }
}
