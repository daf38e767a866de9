// Helpers for top-N model tests: a seeded per-user holdout split and precision@k against it.
import { Dataset, type Recommender } from '../../ts/index.js';
import { mulberry32 } from './random.js';

/** Per user, a seeded `testFraction` of the interactions go to test (same id maps). */
export function holdout(ds: Dataset, testFraction = 0.2, seed = 1): { train: Dataset; test: Dataset } {
  const rnd = mulberry32(seed);
  const { indptr, indices, data } = ds.csr;
  const tr: number[][] = [[], [], []],
    te: number[][] = [[], [], []];
  for (let u = 0; u < ds.nUsers; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const dst = rnd() < testFraction ? te : tr;
      dst[0]!.push(u);
      dst[1]!.push(indices[p]!);
      dst[2]!.push(data ? data[p]! : 1);
    }
  }
  const mk = (c: number[][]) => Dataset.fromCoo(ds.users, ds.items, Int32Array.from(c[0]!), Int32Array.from(c[1]!), Float32Array.from(c[2]!));
  return { train: mk(tr), test: mk(te) };
}

/** Mean precision@k over users with test items, training items excluded. */
export function precisionAt(model: Recommender, test: Dataset, k = 10): number {
  const users: number[] = [];
  for (let u = 0; u < test.nUsers; u++) if (test.csr.indptr[u + 1]! > test.csr.indptr[u]!) users.push(u);
  const r = model.recommendBatchDense(Int32Array.from(users), { k });
  let sum = 0;
  users.forEach((u, row) => {
    const truth = new Set(test.userItems(u));
    let hits = 0;
    for (let j = 0; j < r.counts[row]!; j++) if (truth.has(r.items[row * r.k + j]!)) hits++;
    sum += hits / k;
  });
  return sum / users.length;
}
