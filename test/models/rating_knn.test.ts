import { describe, expect, it } from 'vitest';
import { Dataset, KNNBaseline, KNNBasic, KNNWithMeans, type KNNParams, type KNNSimilarity } from '../../ts/index.js';
import { surpriseKnnEstimate, surpriseSimilarities } from '../../bench/reference/knn_surprise.js';
import { code } from '../helpers/rejection.js';
import { nativeCode, planted, rmse } from './rating_data.js';
import { scaledRatings } from '../helpers/synthetic.js';

type Mode = 'basic' | 'means' | 'baseline';
const make = (mode: Mode, p: KNNParams) => (mode === 'basic' ? new KNNBasic(p) : mode === 'means' ? new KNNWithMeans(p) : new KNNBaseline(p));

describe('KNNBasic / KNNWithMeans / KNNBaseline', () => {
  it('KNNBaseline recovers planted additive structure (user- and item-based) to about the noise level', () => {
    const d = planted({ rank: 0, noise: 0.1 });
    for (const userBased of [true, false]) {
      const m = new KNNBaseline({ userBased }).fit(d.train);
      expect(rmse(m.predictDense(d.testUsers, d.testItems), d.testRatings)).toBeLessThan(1.2 * d.noise);
    }
  });

  it("follows Surprise's rule exactly on small data (dense similarities, nlargest over the raters)", () => {
    const d = planted({ users: 30, items: 25, density: 0.45, rank: 2, noise: 0.3, seed: 5 });
    const R = d.train.csr;
    const C = d.train.csc;
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of R.data!) {
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
    }
    const sims: KNNSimilarity[] = ['msd', 'cosine', 'pearson', 'pearson_baseline'];
    let compared = 0;
    for (const mode of ['basic', 'means', 'baseline'] as Mode[]) {
      for (const similarity of sims) {
        for (const userBased of [true, false]) {
          const p = { similarity, userBased, k: 5, minK: 2, minSupport: 2, shrinkage: 10 };
          const m = make(mode, p).fit(d.train);
          const s = m.nativeModel.state();
          const mu = s.global_bias!.data[0]!;
          const o = { ...p, mode, mu, bu: s.user_bias?.data, bi: s.item_bias?.data };
          const [X, Y, bx, by] = userBased ? [R, C, o.bu, o.bi] : [C, R, o.bi, o.bu];
          const sim = surpriseSimilarities(X, Y, o, bx, by);
          const us: number[] = [];
          const is: number[] = [];
          const want: number[] = [];
          for (let u = 0; u < d.train.nUsers; u++) {
            const rated = new Set(d.train.userItems(u));
            for (let i = 0; i < d.train.nItems; i++) {
              if (rated.has(i)) continue;
              const e = surpriseKnnEstimate(R, C, sim, o, u, i);
              us.push(u);
              is.push(i);
              want.push(Math.min(hi, Math.max(lo, Number.isNaN(e) ? mu : e)));
            }
          }
          const got = m.predictDense(Int32Array.from(us), Int32Array.from(is));
          for (let t = 0; t < want.length; t++) expect(got[t]!, `${mode} ${similarity} userBased=${userBased} pair ${us[t]},${is[t]}`).toBeCloseTo(want[t]!, 4);
          // the same pairs in another order (the per-thread user row switches at every call) give the same values
          const perm = us.map((_, t) => (t * 7919) % us.length);
          const again = m.predictDense(
            Int32Array.from(perm, (t) => us[t]!),
            Int32Array.from(perm, (t) => is[t]!),
          );
          perm.forEach((t, j) => expect(again[j]).toBe(got[t]));
          compared += want.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(10000);
  });

  it('keeps at most maxNeighbors per row, the most similar ones', () => {
    const d = planted({ users: 60, items: 40, density: 0.5, seed: 3 });
    const full = new KNNBaseline({ userBased: true }).fit(d.train).nativeModel.state();
    const capped = new KNNBaseline({ userBased: true, maxNeighbors: 5 }).fit(d.train).nativeModel.state();
    const fp = full.neighbor_indptr!.data;
    const cp = capped.neighbor_indptr!.data;
    for (let x = 0; x < d.train.nUsers; x++) {
      const n = cp[x + 1]! - cp[x]!;
      expect(n).toBe(Math.min(5, fp[x + 1]! - fp[x]!));
      const all = Array.from(full.neighbor_sims!.data.subarray(fp[x], fp[x + 1])).sort((a, b) => b - a);
      const kept = Array.from(capped.neighbor_sims!.data.subarray(cp[x], cp[x + 1])).sort((a, b) => b - a);
      expect(kept).toEqual(all.slice(0, n));
    }
  });

  it("folds in a user's own ratings to exactly that user's recommendations", () => {
    const d = planted({ users: 80, items: 60, density: 0.3, rank: 1, seed: 9 });
    for (const userBased of [true, false]) {
      for (const mode of ['means', 'baseline'] as Mode[]) {
        const m = make(mode, { userBased, similarity: 'pearson_baseline' }).fit(d.train);
        for (const u of [0, 7, 33]) {
          const id = d.train.users.id(u);
          const want = m.recommend(id, { k: 10 });
          const items = Array.from(d.train.userItems(u), (i) => d.train.items.id(i));
          const got = m.recommendForNewUser({ items, ratings: Array.from(d.train.userValues(u)!) }, { k: 10 });
          expect(got.map((r) => r.item)).toEqual(want.map((r) => r.item));
          got.forEach((r, j) => expect(r.score).toBeCloseTo(want[j]!.score, 4));
        }
      }
    }
  });

  it('falls back for unknown users and items as documented', () => {
    const ds = Dataset.fromArrays({ users: ['a', 'a', 'b', 'b', 'c', 'c'], items: ['x', 'y', 'x', 'z', 'y', 'z'], ratings: [5, 3, 4, 2, 1, 3] });
    const mu = 3;
    expect(new KNNBasic().fit(ds).predict('nobody', 'x')).toBeCloseTo(mu, 5);
    const wm = new KNNWithMeans().fit(ds);
    expect(wm.predict('a', 'nothing')).toBeCloseTo(4, 5); // a's mean
    expect(wm.predict('nobody', 'x')).toBeCloseTo(4.5, 5); // x's mean
    expect(wm.predict('nobody', 'nothing')).toBeCloseTo(mu, 5);
    const kb = new KNNBaseline().fit(ds);
    const s = kb.nativeModel.state();
    expect(kb.predict('nobody', 'x')).toBeCloseTo(mu + s.item_bias!.data[ds.itemIndex('x')]!, 5);
    expect(kb.predict('a', 'nothing')).toBeCloseTo(mu + s.user_bias!.data[ds.userIndex('a')]!, 5);
  });

  it('gives similar items/users on both sides and is the same for any thread count', () => {
    const d = planted({ users: 50, items: 40, density: 0.4, seed: 2 });
    const m1 = new KNNBaseline({ threads: 1 }).fit(d.train);
    const m2 = new KNNBaseline({ threads: 2 }).fit(d.train);
    expect(m2.predictDense(d.testUsers, d.testItems)).toEqual(m1.predictDense(d.testUsers, d.testItems));
    expect(m1.similarUsers(d.train.users.id(0), 3)).toHaveLength(3);
    expect(m1.similarItems(d.train.items.id(0), 3).length).toBeGreaterThan(0);
  });

  it('rejects bad parameters with E_ARG, in TS and natively', () => {
    const d = planted({ users: 20, items: 20 });
    for (const p of [
      { k: 0 },
      { k: 2.5 },
      { minK: -1 },
      { shrinkage: -1 },
      { shrinkage: NaN },
      { similarity: 'jaccard' },
      { maxNeighbors: -4 },
      { userBased: 'yes' },
    ]) {
      expect(code(() => new KNNBaseline(p as KNNParams))).toBe('E_ARG');
      expect(nativeCode('fitKNN', d.train.csr, d.train.csc, { ...p, mode: 'baseline' }, {})).toBe('E_ARG');
    }
    expect(nativeCode('fitKNN', d.train.csr, d.train.csc, { mode: 'median' }, {})).toBe('E_ARG');
  });

  it('a fit whose predictions would overflow the float range says so instead of saving a model that cannot load', () => {
    const big = (u: number, j: number) => 1e38 * (1 + ((u + j) % 3));
    expect(() => new KNNWithMeans({ threads: 1 }).fit(scaledRatings(big))).toThrow(/KNNWithMeans diverged \(ratings so large that predictions overflow/);
    const ok = scaledRatings((u, j) => big(u, j) / 100);
    expect(Number.isFinite(new KNNWithMeans({ threads: 1 }).fit(ok).predict(0, 0))).toBe(true);
  });
});
