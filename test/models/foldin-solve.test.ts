// Least-squares fold-in answers for every setting the constructors accept (issue 12, found by the fuzz suite: a
// FactorModel file with foldin alpha = 1e30 loaded and then failed every fold-in with E_NATIVE "not positive
// definite"; alpha = 1e8, which the constructor accepts, failed the same way, and alpha = 1e12 answered scores up
// to 9% off). Fold-in solves in float as the fit does; where float cannot hold the system (a confidence that swamps
// Y^T Y, Inf from a rating near the float limit) or it is singular (explicit, no regularization, fewer items than
// factors), in double with the smallest ridge that makes it definite. Compared here with a reference solved in JS.
import { describe, expect, it } from 'vitest';
import { FactorModel, ImplicitALS } from '../../ts/index.js';
import { mulberry32, randomMatrix } from '../helpers/random.js';
import { synthetic } from '../helpers/synthetic.js';

/** x of A x = b (A symmetric positive definite, n x n row-major) by Cholesky in double. */
function solveSpd(A: number[], b: number[], n: number): number[] {
  const L = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let p = 0; p < j; p++) s -= L[i * n + p]! * L[j * n + p]!;
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j]!;
    }
  const y = b.slice();
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) y[i]! -= L[i * n + p]! * y[p]!;
    y[i]! /= L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) y[i]! -= L[p * n + i]! * y[p]!;
    y[i]! /= L[i * n + i]!;
  }
  return y;
}

const row = (V: Float32Array, i: number, k: number) => Array.from(V.subarray(i * k, (i + 1) * k));

/** Implicit fold-in (Hu et al.): (V^T V + reg I + sum alpha |r| v v^T) x = sum_{r > 0} (1 + alpha |r|) v. */
function implicitReference(V: Float32Array, k: number, reg: number, alpha: number, its: number[], rs: number[]): number[] {
  const A = new Array<number>(k * k).fill(0);
  const b = new Array<number>(k).fill(0);
  for (let i = 0; i < V.length / k; i++) {
    const v = row(V, i, k);
    for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) A[p * k + q]! += v[p]! * v[q]!;
  }
  for (let p = 0; p < k; p++) A[p * k + p]! += reg;
  its.forEach((it, t) => {
    const v = row(V, it, k);
    const c = alpha * Math.abs(rs[t]!);
    for (let p = 0; p < k; p++) {
      for (let q = 0; q < k; q++) A[p * k + q]! += c * v[p]! * v[q]!;
      if (rs[t]! > 0) b[p]! += (1 + c) * v[p]!;
    }
  });
  return solveSpd(A, b, k);
}

/** Scores of every item for user vector x, and the model's answer checked against them. */
function expectScores(got: { item: unknown; score: number }[], ids: readonly unknown[], V: Float32Array, k: number, x: number[], rel: number): void {
  const ref = ids.map((_, i) => row(V, i, k).reduce((s, v, p) => s + v * x[p]!, 0));
  const scale = Math.max(...ref.map(Math.abs));
  expect(got.length).toBeGreaterThan(0);
  for (const r of got) {
    expect(Number.isFinite(r.score)).toBe(true);
    expect(Math.abs(r.score - ref[ids.indexOf(r.item)]!)).toBeLessThanOrEqual(rel * scale);
  }
  // The reference's best score is the model's first answer (up to ties within the tolerance).
  expect(got[0]!.score).toBeGreaterThanOrEqual(Math.max(...ref) - rel * scale);
}

describe('least-squares fold-in', () => {
  const k = 4;
  const rnd = mulberry32(12);
  const users = Array.from({ length: 15 }, (_, u) => `u${u}`);
  const items = Array.from({ length: 25 }, (_, i) => `i${i}`);
  const U = randomMatrix(15, k, rnd);
  const V = randomMatrix(25, k, rnd);
  const its = [0, 1, 2];
  const known = its.map((i) => items[i]!);

  it.each([
    [1, 0.05, 4], // float
    [1e8, 0.05, 4], // float Cholesky failed
    [1e8, 0, 4],
    [1e12, 0.05, 4], // float factored it, imprecisely
    [1e12, 0, 1],
  ])('implicit, alpha = %d, reg = %d, ratings %d: the reference answer', (alpha, reg, r) => {
    const m = FactorModel.fromFactors({ users, items, factors: k, userFactors: U, itemFactors: V, foldIn: { implicit: true, alpha, reg, scaleReg: false } });
    const got = m.recommendForNewUser({ items: known, ratings: known.map(() => r) }, { k: 10, filterSeen: false });
    const x = implicitReference(V, k, reg, alpha, its, [r, r, r]);
    expectScores(got, items, V, k, x, 1e-3);
  });

  it('implicit, ratings at the float limit: finite scores', () => {
    const m = FactorModel.fromFactors({
      users,
      items,
      factors: k,
      userFactors: U,
      itemFactors: V,
      foldIn: { implicit: true, alpha: 1e12, reg: 0, scaleReg: false },
    });
    const got = m.recommendForNewUser({ items: known, ratings: [3e38, -3e38, 1] }, { k: 25, filterSeen: false });
    expect(got).toHaveLength(25);
    for (const r of got) expect(Number.isFinite(r.score)).toBe(true);
  });

  it('explicit without regularization, fewer items than factors: the minimum-norm least-squares answer', () => {
    // (V_S^T V_S) x = V_S^T r is singular for |S| < k; its minimum-norm solution is x = V_S^T (V_S V_S^T)^-1 r.
    const m = FactorModel.fromFactors({ users, items, factors: k, userFactors: U, itemFactors: V, foldIn: { implicit: false, reg: 0, scaleReg: false } });
    const rs = [5, 1, 3];
    const got = m.recommendForNewUser({ items: known, ratings: rs }, { k: 10, filterSeen: false });
    const Vs = its.map((i) => row(V, i, k));
    const G = Vs.flatMap((a) => Vs.map((b) => a.reduce((s, v, p) => s + v * b[p]!, 0)));
    const z = solveSpd(G, rs, its.length);
    const x = Array.from({ length: k }, (_, p) => Vs.reduce((s, v, q) => s + v[p]! * z[q]!, 0));
    expectScores(got, items, V, k, x, 1e-3);
  });

  it('ImplicitALS with alpha = 1e8 folds a user in (the same solver)', () => {
    const data = synthetic({ users: 30, items: 20, minPerUser: 3, maxPerUser: 8, seed: 4 });
    const als = new ImplicitALS({ factors: 4, iterations: 3, alpha: 1e8, reg: 0.01, threads: 1 }).fit(data);
    const ids = als.trainData.items.ids;
    const got = als.recommendForNewUser({ items: ids.slice(0, 3), ratings: [1, 1, 1] }, { k: 10, filterSeen: false });
    expectScores(got, ids, als.itemFactors!, 4, implicitReference(als.itemFactors!, 4, 0.01, 1e8, [0, 1, 2], [1, 1, 1]), 1e-3);
  });
});
