import { describe, expect, it } from 'vitest';
import { ExplicitALS } from '../../ts/index.js';
import { choleskySolve, explicitAlsSweep } from '../../bench/reference/als_explicit.js';
import { code } from '../helpers/rejection.js';
import { maxDiff, nativeCode, planted, rmse } from './rating_data.js';

describe('ExplicitALS', () => {
  const d = planted({ rank: 3, noise: 0.1 });

  it('recovers a planted rank-3 matrix to about the noise level', () => {
    const m = new ExplicitALS({ factors: 3, epochs: 15, reg: 0.01 }).fit(d.train);
    expect(rmse(m.predictDense(d.testUsers, d.testItems), d.testRatings)).toBeLessThan(1.25 * d.noise);
  });

  it('agrees with the plain-TS sweep (Cholesky in doubles), biased and unbiased', () => {
    for (const biased of [true, false]) {
      const p = { factors: 4, reg: 0.05, biased, seed: 3 };
      const s0 = new ExplicitALS({ ...p, epochs: 0 }).fit(d.train).nativeModel.state();
      const ref = {
        factors: 4,
        U: new Float64Array(d.train.nUsers * 4),
        V: Float64Array.from(s0.item_factors!.data),
        bu: new Float64Array(biased ? d.train.nUsers : 0),
        bi: new Float64Array(biased ? d.train.nItems : 0),
        mu: biased ? s0.global_bias!.data[0]! : 0,
      };
      for (let e = 0; e < 2; e++) explicitAlsSweep(d.train.csr, d.train.csc, ref, p.reg);
      const s = new ExplicitALS({ ...p, epochs: 2 }).fit(d.train).nativeModel.state();
      expect(maxDiff(s.user_factors!.data, ref.U)).toBeLessThan(2e-4);
      expect(maxDiff(s.item_factors!.data, ref.V)).toBeLessThan(2e-4);
      if (biased) expect(maxDiff(s.item_bias!.data, ref.bi)).toBeLessThan(2e-4);
    }
  });

  it('is the same for any thread count', () => {
    const fit = (threads: number) => new ExplicitALS({ factors: 6, epochs: 3, threads }).fit(d.train).predictDense(d.testUsers, d.testItems);
    expect(fit(2)).toEqual(fit(1));
  });

  it('folds in by the exact regularized least-squares solve', () => {
    const reg = 0.05;
    const m = new ExplicitALS({ factors: 3, epochs: 5, reg }).fit(d.train);
    const s = m.nativeModel.state();
    const items = [0, 3, 5, 8].map((i) => d.train.items.id(i));
    const ratings = [4, 2.5, 3, 5];
    const k = 3;
    const A = new Float64Array(16);
    const b = new Float64Array(4);
    const mu = s.global_bias!.data[0]!;
    [0, 3, 5, 8].forEach((i, t) => {
      const x = [...Array.from(s.item_factors!.data.subarray(i * k, i * k + k)), 1];
      const y = ratings[t]! - mu - s.item_bias!.data[i]!;
      for (let a = 0; a < 4; a++) {
        b[a]! += x[a]! * y;
        for (let c = 0; c < 4; c++) A[a * 4 + c]! += x[a]! * x[c]!;
      }
    });
    for (let a = 0; a < 4; a++) A[a * 4 + a]! += reg * 4;
    choleskySolve(A, b, 4);
    const recs = m.recommendForNewUser({ items, ratings }, { k: 3, filterSeen: true });
    for (const r of recs) {
      const i = d.train.items.index(r.item);
      let want = mu + b[3]! + s.item_bias!.data[i]!;
      for (let f = 0; f < k; f++) want += b[f]! * s.item_factors!.data[i * k + f]!;
      expect(r.score).toBeCloseTo(want, 4);
    }
  });

  it('rejects bad parameters with E_ARG, in TS and natively', () => {
    for (const p of [{ factors: -3 }, { reg: 0 }, { reg: NaN }, { epochs: 0.5 }, { initStd: -1 }]) {
      expect(code(() => new ExplicitALS(p))).toBe('E_ARG');
      expect(nativeCode('fitExplicitALS', d.train.csr, d.train.csc, p, {})).toBe('E_ARG');
    }
  });
});
