// explain(): contributions against plain references; exact methods sum to the score.
import { describe, expect, it } from 'vitest';
import { BPR, BiasedMF, EASE, ImplicitALS, ItemKNN, Popularity, SANSA, createRecommender, explain, type Recommender } from '../../ts/index.js';
import { synthetic } from '../helpers/synthetic.js';

const data = synthetic({ users: 50, items: 80, minPerUser: 4, maxPerUser: 14, seed: 11, skew: true });
const item = (i: number) => `i${i}`;

/** The model's score of (u, i) from recommend with include = [i]. */
function modelScore(model: Recommender, u: number, i: number): number {
  return model.recommend(`u${u}`, { k: 1, include: [item(i)], filterSeen: false })[0]!.score;
}

function byItem(e: { contributions: { item: unknown; contribution: number }[] }): Map<unknown, number> {
  return new Map(e.contributions.map((c) => [c.item, c.contribution]));
}

describe('item-item models: contributions are value x weight and sum to the score', () => {
  it('EASE: r_uj * B[j, i] from the weight matrix', () => {
    const ease = new EASE({ lambda: 20, threads: 1 }).fit(data);
    const B = ease.nativeModel.state().B!.data as Float32Array;
    const n = data.nItems;
    for (let u = 0; u < 50; u += 7)
      for (const i of [0, 5, 33, 79]) {
        const e = explain(ease, `u${u}`, item(i), { top: 1000 });
        expect(e.method).toBe('item-item');
        expect(e.approximate).toBe(false);
        const items = data.userItems(u);
        const values = data.userValues(u)!;
        let sum = 0;
        const got = byItem(e);
        items.forEach((j, p) => {
          const want = values[p]! * B[j * n + i]!;
          sum += want;
          expect(got.get(item(j))).toBeCloseTo(want, 5);
        });
        expect(e.contributions).toHaveLength(items.length);
        expect(e.score).toBeCloseTo(sum, 5);
        expect(e.score).toBeCloseTo(modelScore(ease, u, i), 4);
        expect(e.modelScore).toBeCloseTo(modelScore(ease, u, i), 6);
        // Sorted by size.
        for (let q = 1; q < e.contributions.length; q++)
          expect(Math.abs(e.contributions[q - 1]!.contribution)).toBeGreaterThanOrEqual(Math.abs(e.contributions[q]!.contribution));
      }
  });

  it('ItemKNN: r_uj * sim(j, i) from the neighbour lists', () => {
    const knn = new ItemKNN({ k: 10, threads: 1 }).fit(data);
    const s = knn.nativeModel.state();
    const ptr = s.neighbor_indptr!.data as Int32Array;
    const nb = s.neighbor_items!.data as Int32Array;
    const sim = s.neighbor_scores!.data as Float32Array;
    const w = (j: number, i: number) => {
      for (let q = ptr[j]!; q < ptr[j + 1]!; q++) if (nb[q] === i) return sim[q]!;
      return 0;
    };
    let nonzero = 0;
    for (let u = 0; u < 50; u += 5)
      for (const i of [1, 2, 3, 10, 40]) {
        const e = explain(knn, `u${u}`, item(i), { top: 1000 });
        const got = byItem(e);
        let sum = 0;
        data.userItems(u).forEach((j, p) => {
          const want = data.userValues(u)![p]! * w(j, i);
          sum += want;
          if (want !== 0) nonzero++;
          expect(got.get(item(j))).toBeCloseTo(want, 5);
        });
        expect(e.score).toBeCloseTo(sum, 5);
        expect(e.score).toBeCloseTo(modelScore(knn, u, i), 4);
      }
    expect(nonzero).toBeGreaterThan(20);
  });

  it('SANSA: the contributions sum to the score', () => {
    const sansa = new SANSA({ lambda: 20, density: 0.5, threads: 1 }).fit(data);
    for (let u = 0; u < 50; u += 9)
      for (const i of [0, 7, 20]) {
        const e = explain(sansa, `u${u}`, item(i));
        expect(e.method).toBe('item-item');
        expect(e.score).toBeCloseTo(modelScore(sansa, u, i), 4);
      }
  });
});

/** Plain Hu et al. section 5: W = (Y^T C Y + reg I)^-1 by Gauss-Jordan, s_ij = y_i^T W y_j, contribution s_ij c_j p_j. */
function huReference(Y: Float32Array, k: number, nItems: number, hist: Int32Array, vals: Float32Array, i: number, reg: number, alpha: number): number[] {
  const A: number[][] = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => (a === b ? reg : 0)));
  const c = new Map<number, number>();
  hist.forEach((j, p) => c.set(j, 1 + alpha * Math.abs(vals[p]!)));
  for (let j = 0; j < nItems; j++) {
    const cj = c.get(j) ?? 1;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) A[a]![b]! += cj * Y[j * k + a]! * Y[j * k + b]!;
  }
  // Invert by Gauss-Jordan.
  const W: number[][] = A.map((row, a) => [...row, ...Array.from({ length: k }, (_, b) => (a === b ? 1 : 0))]);
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(W[r]![col]!) > Math.abs(W[piv]![col]!)) piv = r;
    [W[col], W[piv]] = [W[piv]!, W[col]!];
    const d = W[col]![col]!;
    for (let t = 0; t < 2 * k; t++) W[col]![t]! /= d;
    for (let r = 0; r < k; r++)
      if (r !== col) {
        const f = W[r]![col]!;
        for (let t = 0; t < 2 * k; t++) W[r]![t]! -= f * W[col]![t]!;
      }
  }
  return Array.from(hist, (j, p) => {
    let s = 0;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) s += Y[i * k + a]! * W[a]![k + b]! * Y[j * k + b]!;
    return vals[p]! > 0 ? s * c.get(j)! : 0;
  });
}

describe('ImplicitALS: the decomposition of Hu et al. (2008), section 5', () => {
  const reg = 0.5,
    alpha = 2;
  const als = new ImplicitALS({ factors: 6, iterations: 5, reg, alpha, threads: 1, seed: 3 }).fit(data);
  const Y = als.itemFactors!;

  it('equals the plain reference and sums to the fold-in score of the user history', () => {
    for (let u = 0; u < 50; u += 6)
      for (const i of [0, 9, 42, 77]) {
        const e = explain(als, `u${u}`, item(i), { top: 1000 });
        expect(e.method).toBe('als-decomposition');
        expect(e.approximate).toBe(false);
        const hist = data.userItems(u);
        const vals = data.userValues(u)!;
        const want = huReference(Y, 6, data.nItems, hist, vals, i, reg, alpha);
        const got = byItem(e);
        hist.forEach((j, p) => expect(got.get(item(j))).toBeCloseTo(want[p]!, 5));
        const sum = want.reduce((a, b) => a + b, 0);
        expect(e.score).toBeCloseTo(sum, 5);
        // The user's exact least-squares vector against the final item factors is the fold-in's.
        const fold = als.recommendForNewUser({ items: Array.from(hist, item), ratings: Array.from(vals) }, { k: 1, include: [item(i)], filterSeen: false });
        expect(e.score).toBeCloseTo(fold[0]!.score, 4);
        // ... and close to the stored vector's score (fitted half a sweep earlier).
        expect(e.modelScore).toBeCloseTo(modelScore(als, u, i), 6);
        expect(Math.abs(e.score - e.modelScore)).toBeLessThan(0.2);
      }
  });

  it('with frequency-scaled regularization and binary data too', () => {
    const m = new ImplicitALS({ factors: 4, iterations: 3, reg: 0.1, regExponent: 0.5, regUnobserved: 0.2, binary: true, threads: 1 }).fit(data);
    for (let u = 0; u < 50; u += 10) {
      const hist = data.userItems(u);
      const e = explain(m, `u${u}`, item(3));
      const fold = m.recommendForNewUser({ items: Array.from(hist, item) }, { k: 1, include: [item(3)], filterSeen: false });
      expect(e.score).toBeCloseTo(fold[0]!.score, 4);
    }
  });
});

describe('other factor models: nearest liked items, approximate', () => {
  it.each([
    ['BPR', () => new BPR({ factors: 8, epochs: 5, threads: 1 }).fit(data)],
    ['BiasedMF', () => new BiasedMF({ factors: 8, epochs: 5, threads: 1 }).fit(data)],
  ] as const)('%s: cosine of item factors over the liked history, most similar first', (_name, make) => {
    const m = make();
    const V = m.itemFactors!;
    const f = 8;
    const cos = (a: number, b: number) => {
      let d = 0,
        na = 0,
        nb = 0;
      for (let t = 0; t < f; t++) {
        d += V[a * f + t]! * V[b * f + t]!;
        na += V[a * f + t]! ** 2;
        nb += V[b * f + t]! ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    for (let u = 0; u < 50; u += 8) {
      const i = 50;
      const e = explain(m, `u${u}`, item(i), { top: 3 });
      expect(e.method).toBe('nearest-liked');
      expect(e.approximate).toBe(true);
      expect(e.score).toBeCloseTo(modelScore(m, u, i), 5);
      const vals = data.userValues(u)!;
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const liked = Array.from(data.userItems(u)).filter((j, p) => j !== i && vals[p]! >= mean);
      const want = liked
        .map((j) => ({ j, s: cos(i, j) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 3);
      expect(e.contributions.map((c) => c.item)).toEqual(want.map((w) => item(w.j)));
      e.contributions.forEach((c, q) => expect(c.contribution).toBeCloseTo(want[q]!.s, 4));
    }
  });
});

describe('errors', () => {
  it('unknown ids and models without explanations', () => {
    const ease = new EASE({ lambda: 20, threads: 1 }).fit(data);
    expect(() => explain(ease, 'nobody', 'i1')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_USER' }));
    expect(() => explain(ease, 'u1', 'nothing')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_ITEM' }));
    expect(() => explain(ease, 'u1', 'i1', { top: -1 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => explain(new Popularity().fit(data), 'u1', 'i1')).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }));
    const svc = createRecommender({ model: ease, eventLoopMetrics: false, logger: { info() {}, warn() {}, error() {} } });
    expect(svc.explain('u1', 'i1', { top: 2 }).contributions.length).toBeLessThanOrEqual(2);
    svc.close();
  });
});
