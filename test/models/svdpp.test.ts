import { describe, expect, it } from 'vitest';
import { SVDpp } from '../../ts/index.js';
import { svdppEpoch } from '../../bench/reference/sgd_mf.js';
import { code } from '../helpers/rejection.js';
import { foldInTestError, maxDiff, nativeCode, planted, rmse, withoutUser } from './rating_data.js';

describe('SVDpp', () => {
  const d = planted({ rank: 3, noise: 0.1 });

  it('recovers a planted rank-3 matrix to about the noise level', () => {
    const m = new SVDpp({ factors: 3, epochs: 150, lr: 0.02, reg: 0.01 }).fit(d.train);
    expect(rmse(m.predictDense(d.testUsers, d.testItems), d.testRatings)).toBeLessThan(1.25 * d.noise);
  });

  it("runs Surprise's per-rating update sequence exactly (plain-TS reference, O(|N(u)| k) per rating)", () => {
    const small = planted({ users: 40, items: 30, density: 0.4, seed: 11 });
    const p = { factors: 3, lr: 0.01, reg: 0.05, lrY: 0.02, regY: 0.1, shuffle: false, seed: 9 };
    const s0 = new SVDpp({ ...p, epochs: 0 }).fit(small.train).nativeModel.state();
    const ref = {
      factors: 3,
      U: Float64Array.from(s0.user_explicit_factors!.data),
      V: Float64Array.from(s0.item_factors!.data),
      Y: Float64Array.from(s0.item_implicit_factors!.data),
      bu: new Float64Array(small.train.nUsers),
      bi: new Float64Array(small.train.nItems),
      mu: s0.global_bias!.data[0]!,
    };
    for (let e = 0; e < 3; e++) svdppEpoch(small.train.csr, ref, p);
    const s = new SVDpp({ ...p, epochs: 3 }).fit(small.train).nativeModel.state();
    expect(maxDiff(s.user_explicit_factors!.data, ref.U)).toBeLessThan(1e-4);
    expect(maxDiff(s.item_factors!.data, ref.V)).toBeLessThan(1e-4);
    expect(maxDiff(s.item_implicit_factors!.data, ref.Y)).toBeLessThan(1e-4);
    expect(maxDiff(s.user_bias!.data, ref.bu)).toBeLessThan(1e-4);
    expect(maxDiff(s.item_implicit_factors!.data, s0.item_implicit_factors!.data)).toBeGreaterThan(1e-3);
  });

  it('gives the same predictions for the same seed and different ones for another seed', () => {
    const fit = (o: object) => new SVDpp({ epochs: 3, ...o }).fit(d.train).predictDense(d.testUsers, d.testItems);
    const a = fit({ seed: 1, threads: 1 });
    expect(fit({ seed: 1, threads: 2 })).toEqual(a);
    expect(maxDiff(fit({ seed: 2 }), a)).toBeGreaterThan(1e-4);
  });

  it('folds in a held-out user; without ratings it scores from the implicit part alone', () => {
    const u = d.testUsers[0]!;
    const { rest, items, ratings } = withoutUser(d.train, u);
    const m = new SVDpp({ factors: 3, epochs: 150, lr: 0.02, reg: 0.01 }).fit(rest);
    expect(foldInTestError(m, d, u, items, ratings)).toBeLessThan(3 * d.noise);
    const recs = m.recommendForNewUser({ items }, { k: 5 });
    expect(recs).toHaveLength(5);
    expect(recs.every((r) => Number.isFinite(r.score))).toBe(true);
  });

  it('rejects bad parameters with E_ARG, in TS and natively', () => {
    for (const p of [{ factors: 0 }, { lr: 0 }, { lrY: -1 }, { regY: NaN }, { epochs: 2.5 }, { lrY: 2, regY: 1 }]) {
      expect(code(() => new SVDpp(p))).toBe('E_ARG');
      expect(nativeCode('fitSVDpp', d.train.csr, p, {})).toBe('E_ARG');
    }
  });
});
