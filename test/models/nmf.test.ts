import { describe, expect, it } from 'vitest';
import { Dataset, NMF } from '../../ts/index.js';
import { nmfEpoch } from '../../bench/reference/nmf.js';
import { code } from '../helpers/rejection.js';
import { foldInTestError, maxDiff, nativeCode, planted, rmse, withoutUser } from './rating_data.js';

describe('NMF', () => {
  // Multiplicative updates converge slowly from a start far from the data's scale, so the tests start the
  // factors in the planted range.
  const d = planted({ rank: 3, density: 0.5, nonNegative: true, noise: 0.1 });
  const p = { factors: 3, epochs: 300, regUser: 0, regItem: 0, initLow: 0.5, initHigh: 1 };

  it('recovers a planted non-negative rank-3 matrix to about the noise level', () => {
    const m = new NMF(p).fit(d.train);
    expect(rmse(m.predictDense(d.testUsers, d.testItems), d.testRatings)).toBeLessThan(1.25 * d.noise);
  });

  it("agrees with the plain-TS epoch of Surprise's multiplicative updates", () => {
    const q = { factors: 4, regUser: 0.06, regItem: 0.1, seed: 4 };
    const s0 = new NMF({ ...q, epochs: 0 }).fit(d.train).nativeModel.state();
    const U = Float64Array.from(s0.user_factors!.data);
    const V = Float64Array.from(s0.item_factors!.data);
    for (let e = 0; e < 3; e++) nmfEpoch(d.train.csr, U, V, 4, q.regUser, q.regItem);
    const s = new NMF({ ...q, epochs: 3, threads: 2 }).fit(d.train).nativeModel.state();
    expect(maxDiff(s.user_factors!.data, U)).toBeLessThan(1e-4);
    expect(maxDiff(s.item_factors!.data, V)).toBeLessThan(1e-4);
    expect(maxDiff(s.item_factors!.data, s0.item_factors!.data)).toBeGreaterThan(1e-2);
  });

  it('is reproducible for a seed and any thread count; the biased variant fits too', () => {
    const fit = (o: object) => new NMF({ epochs: 5, ...o }).fit(d.train).predictDense(d.testUsers, d.testItems);
    expect(fit({ seed: 1, threads: 2 })).toEqual(fit({ seed: 1, threads: 1 }));
    expect(maxDiff(fit({ seed: 2 }), fit({ seed: 1 }))).toBeGreaterThan(1e-4);
    const biased = new NMF({ ...p, biased: true, epochs: 50 }).fit(d.train);
    expect(rmse(biased.predictDense(d.testUsers, d.testItems), d.testRatings)).toBeLessThan(0.5);
  });

  it('folds in a held-out user; unknown ids get the global mean', () => {
    const u = d.testUsers[0]!;
    const { rest, items, ratings } = withoutUser(d.train, u);
    expect(foldInTestError(new NMF(p).fit(rest), d, u, items, ratings)).toBeLessThan(3 * d.noise);
    const ds = Dataset.fromArrays({ users: ['a', 'a', 'b'], items: ['x', 'y', 'x'], ratings: [1, 2, 3] });
    expect(new NMF().fit(ds).predict('nobody', 'x')).toBeCloseTo(2, 5);
  });

  it('rejects bad parameters and negative ratings with E_ARG, in TS and natively', () => {
    for (const q of [{ factors: -1 }, { regUser: -0.1 }, { initLow: -1 }, { initLow: 2, initHigh: 1 }, { epochs: NaN }, { lrBiasUser: 0 }]) {
      expect(code(() => new NMF(q))).toBe('E_ARG');
      expect(nativeCode('fitNMF', d.train.csr, d.train.csc, q, {})).toBe('E_ARG');
    }
    const neg = Dataset.fromArrays({ users: [1, 2], items: [1, 1], ratings: [-1, 2] });
    expect(code(() => new NMF().fit(neg))).toBe('E_ARG');
  });
});
