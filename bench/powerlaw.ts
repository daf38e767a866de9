// A generated implicit-feedback dataset with power-law activity and popularity, for benchmarks at scale:
// user u (rank u + 1) has about C (u + 1)^-userExp interactions, item i is drawn with weight (i + 1)^-itemExp,
// every (user, item) pair at most once, total exactly `interactions`. Seeded; no values (binary).
import { Dataset, IdMap } from '../ts/index.js';
import { mulberry32 } from '../test/helpers/random.js';

export interface PowerLawOptions {
  users: number;
  items: number;
  interactions: number;
  userExp?: number;
  itemExp?: number;
  seed?: number;
}

export function powerLawDataset(o: PowerLawOptions): Dataset {
  const { users, items, interactions } = o;
  const userExp = o.userExp ?? 0.5,
    itemExp = o.itemExp ?? 0.8;
  const rnd = mulberry32(o.seed ?? 42);
  if (interactions > users * items) throw new Error('more interactions than pairs');
  // Degrees: proportional to rank^-userExp, capped at the catalogue, rounded so they sum to `interactions`.
  const w = Float64Array.from({ length: users }, (_, u) => (u + 1) ** -userExp);
  let deg = new Int32Array(users);
  let scale = interactions / w.reduce((a, b) => a + b, 0);
  for (let pass = 0; pass < 50; pass++) {
    let total = 0;
    for (let u = 0; u < users; u++) total += deg[u] = Math.min(items, Math.max(1, Math.floor(w[u]! * scale)));
    if (total === interactions) break;
    if (pass === 49 || Math.abs(total - interactions) < users) {
      // hand out (or take back) the remainder one by one from the most active users with room
      let diff = interactions - total;
      for (let u = 0; diff !== 0; u = (u + 1) % users) {
        if (diff > 0 && deg[u]! < items) {
          deg[u]!++;
          diff--;
        } else if (diff < 0 && deg[u]! > 1) {
          deg[u]!--;
          diff++;
        }
      }
      break;
    }
    scale *= interactions / total;
  }
  // Item sampler: alias table over (i + 1)^-itemExp.
  const p = Float64Array.from({ length: items }, (_, i) => (i + 1) ** -itemExp);
  const sum = p.reduce((a, b) => a + b, 0);
  const prob = new Float64Array(items),
    alias = new Int32Array(items);
  {
    const small: number[] = [],
      large: number[] = [];
    const q = Float64Array.from(p, (x) => (x * items) / sum);
    q.forEach((x, i) => (x < 1 ? small : large).push(i));
    while (small.length && large.length) {
      const s = small.pop()!,
        l = large.pop()!;
      prob[s] = q[s]!;
      alias[s] = l;
      q[l] = q[l]! + q[s]! - 1;
      (q[l] < 1 ? small : large).push(l);
    }
    for (const i of [...small, ...large]) prob[i] = 1;
  }
  const draw = () => {
    const i = Math.floor(rnd() * items);
    return rnd() < prob[i]! ? i : alias[i]!;
  };
  const rows = new Int32Array(interactions),
    cols = new Int32Array(interactions);
  let n = 0;
  const mark = new Int32Array(items).fill(-1);
  const keys = new Float64Array(items);
  const order = new Int32Array(items);
  for (let u = 0; u < users; u++) {
    const d = deg[u]!;
    if (d * 4 > items) {
      // Dense users: weighted sampling without replacement by exponential keys (Efraimidis-Spirakis).
      for (let i = 0; i < items; i++) {
        keys[i] = -Math.log(1 - rnd()) / p[i]!;
        order[i] = i;
      }
      const idx = Array.from(order)
        .sort((a, b) => keys[a]! - keys[b]!)
        .slice(0, d);
      for (const i of idx) {
        rows[n] = u;
        cols[n++] = i;
      }
    } else {
      let got = 0;
      while (got < d) {
        const i = draw();
        if (mark[i] === u) continue;
        mark[i] = u;
        rows[n] = u;
        cols[n++] = i;
        got++;
      }
    }
  }
  deg = new Int32Array(0);
  const um = new IdMap(Array.from({ length: users }, (_, u) => u));
  const im = new IdMap(Array.from({ length: items }, (_, i) => i));
  return Dataset.fromCoo(um, im, rows, cols);
}
