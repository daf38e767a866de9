import { describe, expect, it } from 'vitest';
import { code } from '../helpers/rejection.js';
import { Dataset, PureSVD, truncatedSVD } from '../../ts/index.js';
import { jacobiSvd } from '../../bench/reference/svd.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';

function denseOf(ds: Dataset, binary = false): Float64Array {
  const X = new Float64Array(ds.nUsers * ds.nItems);
  const { indptr, indices, data } = ds.csr;
  for (let u = 0; u < ds.nUsers; u++) for (let p = indptr[u]!; p < indptr[u + 1]!; p++) X[u * ds.nItems + indices[p]!] = binary || !data ? 1 : data[p]!;
  return X;
}

describe('truncatedSVD', () => {
  const rnd = mulberry32(66);

  it.each([
    [80, 50, 10, 'tall'],
    [40, 90, 8, 'wide'],
    [30, 30, 30, 'full rank, k = min(m, n)'],
  ])('%i x %i, k = %i (%s): matches an exact Jacobi SVD', (m, n, k) => {
    const { users, items, ratings } = randomInteractions(m, n, Math.ceil(n / 4), rnd);
    const ds = Dataset.fromArrays({ users, items, ratings });
    const A = denseOf(ds);
    const exact = jacobiSvd(A, ds.nUsers, ds.nItems);
    const r = truncatedSVD(ds, k, { powerIterations: 6, threads: 2 });
    expect(r.U.length).toBe(ds.nUsers * k);
    expect(r.Vt.length).toBe(k * ds.nItems);
    for (let j = 0; j < Math.min(k, 5); j++) expect(Math.abs(r.S[j]! - exact.S[j]!) / exact.S[j]!).toBeLessThan(1e-4);
    for (let j = 0; j < k; j++) expect(Math.abs(r.S[j]! - exact.S[j]!) / exact.S[0]!).toBeLessThan(0.02);
    // leading singular vectors agree up to sign (when the gap to the next value is clear)
    const r0 = ds.nUsers;
    const rr = Math.min(ds.nUsers, ds.nItems);
    for (let j = 0; j < 3; j++) {
      if ((exact.S[j]! - exact.S[j + 1]!) / exact.S[0]! < 0.02) continue;
      let dotU = 0;
      for (let i = 0; i < r0; i++) dotU += r.U[i * k + j]! * exact.U[i * rr + j]!;
      expect(Math.abs(Math.abs(dotU) - 1)).toBeLessThan(1e-3);
      let dotV = 0;
      for (let i = 0; i < ds.nItems; i++) dotV += r.Vt[j * ds.nItems + i]! * exact.Vt[j * ds.nItems + i]!;
      expect(Math.abs(Math.abs(dotV) - 1)).toBeLessThan(1e-3);
    }
    // orthonormal columns of U
    for (let a = 0; a < k; a++)
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let i = 0; i < r0; i++) s += r.U[i * k + a]! * r.U[i * k + b]!;
        expect(s).toBeCloseTo(a === b ? 1 : 0, 3);
      }
  });

  it('recovers an exactly low-rank matrix: U S Vt reproduces it', () => {
    // 60 x 40 of rank 3, stored sparse with every entry present
    const m = 60,
      n = 40,
      L = Array.from({ length: m * 3 }, () => rnd()),
      R = Array.from({ length: 3 * n }, () => rnd());
    const users: number[] = [],
      items: number[] = [],
      ratings: number[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        users.push(i);
        items.push(j);
        ratings.push(L[i * 3]! * R[j]! + L[i * 3 + 1]! * R[n + j]! + L[i * 3 + 2]! * R[2 * n + j]!);
      }
    const ds = Dataset.fromArrays({ users, items, ratings });
    const r = truncatedSVD(ds.csr, 3, { oversample: 5, powerIterations: 1, seed: 9 });
    let err = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < 3; c++) s += r.U[i * 3 + c]! * r.S[c]! * r.Vt[c * n + j]!;
        err = Math.max(err, Math.abs(s - ratings[i * n + j]!));
      }
    expect(err).toBeLessThan(1e-4);
  });

  it('is deterministic for a seed and thread count; other thread counts change only rounding', () => {
    const { users, items } = randomInteractions(50, 40, 10, rnd);
    const ds = Dataset.fromArrays({ users, items });
    const a = truncatedSVD(ds, 5, { seed: 3, threads: 2 });
    const b = truncatedSVD(ds, 5, { seed: 3, threads: 2 });
    const c = truncatedSVD(ds, 5, { seed: 3, threads: 1 });
    expect(Array.from(a.S)).toEqual(Array.from(b.S));
    expect(Array.from(a.U)).toEqual(Array.from(b.U));
    a.S.forEach((v, j) => expect(Math.abs(v - c.S[j]!) / v).toBeLessThan(1e-5));
  });

  it('rejects bad k and options with E_ARG', () => {
    const ds = Dataset.fromArrays({ users: [1, 2, 3], items: [1, 2, 1] });
    expect(code(() => truncatedSVD(ds, 0))).toBe('E_ARG');
    expect(code(() => truncatedSVD(ds, 3))).toBe('E_ARG');
    expect(code(() => truncatedSVD(ds, 1, { oversample: -1 }))).toBe('E_ARG');
    expect(code(() => truncatedSVD(ds, 1, { powerIterations: 0.5 }))).toBe('E_ARG');
    expect(code(() => truncatedSVD({} as never, 1))).toBe('E_ARG');
  });
});

describe('PureSVD', () => {
  const rnd = mulberry32(67);
  const { users, items, ratings } = randomInteractions(70, 45, 12, rnd);
  const ds = Dataset.fromArrays({ users, items, ratings });

  it('scores r_u V V^T: fold-in of a training row gives that user scores', () => {
    // a sketch as wide as the matrix makes the randomized SVD exact, so R V = U S holds to rounding
    const m = new PureSVD({ factors: 6, oversample: 100 }).fit(ds);
    for (const u of [0, 44]) {
      const fold = m.recommendForNewUser(
        { items: Array.from(ds.userItems(u), (i) => ds.items.id(i)), ratings: Array.from(ds.userValues(u)!) },
        { k: 45, filterSeen: false },
      );
      const fit = m.recommend(ds.users.id(u), { k: 45, filterSeen: false });
      const byItem = new Map(fit.map((r) => [r.item, r.score]));
      const scale = Math.max(...fit.map((r) => Math.abs(r.score)));
      for (const r of fold) expect(Math.abs(r.score - byItem.get(r.item)!)).toBeLessThan(1e-4 * scale);
    }
  });

  it('its user and item factors are U S and V of the truncated SVD', () => {
    const m = new PureSVD({ factors: 4, binary: true, seed: 2 }).fit(ds);
    const svd = truncatedSVD({ ...ds.csr, data: undefined }, 4, { seed: 2 });
    const U = m.userFactors!,
      V = m.itemFactors!;
    for (let c = 0; c < 4; c++) {
      expect(U[5 * 4 + c]).toBeCloseTo(svd.U[5 * 4 + c]! * svd.S[c]!, 5);
      expect(V[7 * 4 + c]).toBeCloseTo(svd.Vt[c * ds.nItems + 7]!, 5);
    }
  });

  it('values too large for a float32 SVD are E_ARG saying so, not a LAPACK failure', () => {
    const users = [0, 0, 1, 1, 2, 2, 3],
      items = [0, 1, 1, 2, 2, 3, 0];
    const ds = Dataset.fromArrays({ users, items, ratings: [3.4e38, 1, 2, 3, 4, 5, 1] });
    expect(code(() => new PureSVD({ factors: 2, threads: 1 }).fit(ds))).toBe('E_ARG');
    expect(() => new PureSVD({ factors: 2, threads: 1 }).fit(ds)).toThrow(/too large for a float32 SVD \(Frobenius norm 3.4e\+38 > 1e30\)/);
    // 1e29 is within range and fits.
    const ok = Dataset.fromArrays({ users, items, ratings: [1e29, 1, 2, 3, 4, 5, 1] });
    expect(() => new PureSVD({ factors: 2, threads: 1 }).fit(ok)).not.toThrow();
  });
});
