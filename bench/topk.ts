// Top-K serving cost: one user over a 100k-item x 64-factor catalogue (scoring + selection + seen filter),
// and a batch of users with 1 and all threads. Issue #2 target: one user well under 1 ms.
import { Bench } from 'tinybench';
import { Dataset, FactorModel, info } from '../ts/index.js';

const nUsers = 2000,
  nItems = 100_000,
  f = 64;
let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
const U = Float32Array.from({ length: nUsers * f }, rnd);
const V = Float32Array.from({ length: nItems * f }, rnd);
const users = Array.from({ length: nUsers }, (_, u) => u);
const items = Array.from({ length: nItems }, (_, i) => i);
// 50 seen items per user
const su: number[] = [],
  si: number[] = [];
for (let u = 0; u < nUsers; u++)
  for (let j = 0; j < 50; j++) {
    su.push(u);
    si.push(Math.floor((rnd() + 1) * 0.5 * nItems));
  }
const base = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V });
const seen = Dataset.fromCoo(base.trainData.users, base.trainData.items, Int32Array.from(su), Int32Array.from(si));
const m1 = FactorModel.fromFactors({ users: base.trainData.users, items: base.trainData.items, factors: f, userFactors: U, itemFactors: V, seen, threads: 1 });
const mAll = FactorModel.fromFactors({
  users: base.trainData.users,
  items: base.trainData.items,
  factors: f,
  userFactors: U,
  itemFactors: V,
  seen,
  threads: 0,
});
const batch = users.slice(0, 512);
let u = 0;
const bench = new Bench({ time: 2000, warmup: true });
bench
  .add('recommend one user, k=10 (100k items x 64)', () => {
    m1.recommend(u++ % nUsers, { k: 10 });
  })
  .add('recommendBatch 512 users, k=10, 1 thread', () => {
    m1.recommendBatch(batch, { k: 10 });
  })
  .add(`recommendBatch 512 users, k=10, ${info().defaultThreads} threads`, () => {
    mAll.recommendBatch(batch, { k: 10 });
  });
await bench.run();
console.log(`recsys ${info().version}, BLAS ${info().blas}, ${info().defaultThreads} hardware threads`);
for (const t of bench.tasks) {
  const r = t.result as { latency?: { p50?: number }; period?: number } | undefined;
  const med = r?.latency?.p50 ?? r?.period ?? NaN;
  console.log(`${t.name.padEnd(48)} median ${med.toFixed(3)} ms${t.name.includes('512') ? `  (${((med * 1000) / 512).toFixed(1)} µs/user)` : ''}`);
}
