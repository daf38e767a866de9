// The plain-TS kernels of the benchmark (bench/reference/) that no model test already checks agree with the
// native kernels on small data: CSR construction, batch top-K and the randomized SVD. (The ALS sweep, BPR epoch,
// SGD epoch, parser and metrics references are checked in the model, data and eval tests.)
import { describe, expect, it } from 'vitest';
import { Dataset, FactorModel, truncatedSVD } from '../../ts/index.js';
import { addon } from '../../ts/native.js';
import { buildCsrRef } from '../../bench/reference/csr.js';
import { recommendBatchRef } from '../../bench/reference/topk.js';
import { jacobiSvd, randomizedSvdRef } from '../../bench/reference/svd.js';
import { mulberry32, randomInteractions, randomMatrix } from '../helpers/random.js';

describe('bench/reference kernels agree with native', () => {
  const rnd = mulberry32(505);

  it('CSR build (duplicates: last) equals addon.buildCsr', () => {
    for (const [rows, cols, n] of [
      [1, 1, 1],
      [7, 5, 40],
      [200, 90, 3000],
    ] as const) {
      // Few rows and columns for n, so duplicate pairs are common.
      const r = Int32Array.from({ length: n }, () => Math.floor(rnd() * rows));
      const c = Int32Array.from({ length: n }, () => Math.floor(rnd() * cols));
      const v = Float32Array.from({ length: n }, () => Math.floor(rnd() * 50));
      const ref = buildCsrRef(rows, cols, r, c, v);
      const nat = addon.buildCsr(rows, cols, r, c, v, undefined, 'last');
      expect(Array.from(ref.indptr)).toEqual(Array.from(nat.indptr));
      expect(Array.from(ref.indices)).toEqual(Array.from(nat.indices));
      expect(Array.from(ref.data!)).toEqual(Array.from(nat.data!));
      expect(ref.duplicates).toBe(nat.duplicates);
    }
  });

  it('CSR build refuses a pair outside the matrix instead of dropping it', () => {
    expect(() => buildCsrRef(2, 3, Int32Array.of(0, 1), Int32Array.of(1, 3))).toThrow(/pair 1 \(1, 3\) is outside 2 x 3/);
    expect(() => buildCsrRef(2, 3, Int32Array.of(2), Int32Array.of(0))).toThrow(RangeError);
    expect(() => buildCsrRef(2, 3, Int32Array.of(0, 1), Int32Array.of(0))).toThrow(RangeError);
  });

  it('batch top-K (seen items filtered) equals recommendBatchDense of a factor model', () => {
    const nUsers = 30,
      nItems = 200,
      f = 8;
    const U = randomMatrix(nUsers, f, rnd),
      V = randomMatrix(nItems, f, rnd);
    const { users, items } = randomInteractions(nUsers, nItems, 20, rnd);
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
    const base = FactorModel.fromFactors({ users: ids(nUsers), items: ids(nItems), factors: f, userFactors: U, itemFactors: V });
    const seen = Dataset.fromCoo(base.trainData.users, base.trainData.items, Int32Array.from(users), Int32Array.from(items));
    const m = FactorModel.fromFactors({
      users: base.trainData.users,
      items: base.trainData.items,
      factors: f,
      userFactors: U,
      itemFactors: V,
      seen,
      threads: 2,
    });
    const batch = Int32Array.from(ids(nUsers));
    for (const k of [1, 10, 190]) {
      const nat = m.recommendBatchDense(batch, { k });
      const ref = recommendBatchRef(U, V, f, batch, k, seen.csr);
      expect(Array.from(ref.counts)).toEqual(Array.from(nat.counts));
      // Float sums in another order: equal scores to rounding, the same items except where two scores tie to it.
      for (let row = 0; row < nUsers; row++)
        for (let p = row * k; p < row * k + ref.counts[row]!; p++) {
          expect(ref.scores[p]).toBeCloseTo(nat.scores[p]!, 5);
          if (ref.items[p] !== nat.items[p]) expect(Math.abs(ref.scores[p]! - nat.scores[p]!)).toBeLessThan(1e-5);
        }
    }
  });

  it('randomized SVD: the plain-TS and native versions both reach the exact singular values', () => {
    const { users, items, ratings } = randomInteractions(70, 45, 12, rnd);
    const ds = Dataset.fromArrays({ users, items, ratings });
    const k = 6;
    const ref = randomizedSvdRef(ds.csr, k, { powerIterations: 6 });
    const nat = truncatedSVD(ds, k, { powerIterations: 6, threads: 1 });
    const dense = new Float64Array(ds.nUsers * ds.nItems);
    const { indptr, indices, data } = ds.csr;
    for (let u = 0; u < ds.nUsers; u++) for (let p = indptr[u]!; p < indptr[u + 1]!; p++) dense[u * ds.nItems + indices[p]!] = data![p]!;
    const exact = jacobiSvd(dense, ds.nUsers, ds.nItems);
    for (let j = 0; j < 3; j++) {
      expect(Math.abs(ref.S[j]! - exact.S[j]!) / exact.S[j]!).toBeLessThan(1e-4);
      expect(Math.abs(ref.S[j]! - nat.S[j]!) / exact.S[j]!).toBeLessThan(1e-4);
    }
    for (let j = 0; j < k; j++) expect(Math.abs(ref.S[j]! - nat.S[j]!) / exact.S[0]!).toBeLessThan(0.02);
    // U S Vt of the reference reproduces its leading component of the matrix (orthonormal U columns).
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let i = 0; i < ds.nUsers; i++) s += ref.U[i * k + a]! ** 2;
      expect(s).toBeCloseTo(1, 8);
    }
  });
});
