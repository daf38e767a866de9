// Model file load time: a 1M-item x 64-factor model (plus 20k users, 50 seen items each), saved once, then
// loaded repeatedly (warm page cache: what a server restart or hot reload sees). Issue #6 target: well under 1 s.
// Usage: npx tsx bench/load.ts [items] [factors]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset, FactorModel, info, loadModel, loadModelAsync } from '../ts/index.js';

const nItems = Number(process.argv[2] ?? 1_000_000),
  f = Number(process.argv[3] ?? 64),
  nUsers = 20_000;
let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
const U = new Float32Array(nUsers * f).map(rnd);
const V = new Float32Array(nItems * f).map(rnd);
const users = Array.from({ length: nUsers }, (_, u) => u);
const items = Array.from({ length: nItems }, (_, i) => i);
const base = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V });
const su = new Int32Array(nUsers * 50),
  si = new Int32Array(nUsers * 50);
for (let p = 0; p < su.length; p++) {
  su[p] = Math.floor(p / 50);
  si[p] = Math.floor((rnd() + 1) * 0.5 * nItems) % nItems;
}
const seen = Dataset.fromCoo(base.trainData.users, base.trainData.items, su, si);
const model = FactorModel.fromFactors({ users: base.trainData.users, items: base.trainData.items, factors: f, userFactors: U, itemFactors: V, seen });

const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-load-'));
const path = join(dir, 'model.rsm');
let t = performance.now();
model.save(path);
const saveMs = performance.now() - t;
const size = statSync(path).size;
const times: number[] = [];
const noVerify: number[] = [];
const firstLookup: number[] = [];
// Between loads the event loop turns (as in a server), so the previous model's memory can be collected.
const pause = () => new Promise((r) => setTimeout(r, 200));
for (let r = 0; r < 5; r++) {
  await pause();
  t = performance.now();
  const m = loadModel(path);
  times.push(performance.now() - t);
  t = performance.now();
  m.trainData.items.index(3);
  firstLookup.push(performance.now() - t);
  if (r === 0 && JSON.stringify(m.recommend(7, { k: 10 })) !== JSON.stringify(model.recommend(7, { k: 10 }))) throw new Error('loaded model differs');
  await pause();
  t = performance.now();
  loadModel(path, { verify: false });
  noVerify.push(performance.now() - t);
}
// The server's path: read, hash and restore on a worker thread; the event loop stalls only for the JS-side part.
const asyncTimes: number[] = [];
const stalls: number[] = [];
for (let r = 0; r < 3; r++) {
  await pause();
  let last = performance.now();
  let maxGap = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  t = performance.now();
  await loadModelAsync(path);
  asyncTimes.push(performance.now() - t);
  clearInterval(iv);
  stalls.push(maxGap);
}
rmSync(dir, { recursive: true, force: true });
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log(`recsys ${info().version}, ${info().defaultThreads} hardware threads (loading is single-threaded)`);
console.log(`model: ${nItems} items x ${f} factors, ${nUsers} users, ${seen.nnz} seen interactions; file ${(size / 2 ** 20).toFixed(1)} MiB`);
console.log(`save:               ${saveMs.toFixed(0)} ms`);
console.log(`load (checksum on): median ${med(times).toFixed(0)} ms  (runs: ${times.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`load (verify off):  median ${med(noVerify).toFixed(0)} ms`);
console.log(`loadModelAsync:     median ${med(asyncTimes).toFixed(0)} ms, longest event-loop stall meanwhile ${med(stalls).toFixed(0)} ms (median of 3)`);
console.log(`first item-id lookup after a load (builds the id -> index map): median ${med(firstLookup).toFixed(0)} ms`);
