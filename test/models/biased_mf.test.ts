import { describe, expect, it } from 'vitest';
import { BiasedMF, Dataset } from '../../ts/index.js';
import { biasedMfEpoch } from '../../bench/reference/sgd_mf.js';
import { code } from '../helpers/rejection.js';
import { foldInTestError, maxDiff, nativeCode, planted, rmse, withoutUser } from './rating_data.js';

describe('BiasedMF', () => {
  const d = planted({ rank: 3, noise: 0.1 });

  it('recovers a planted rank-3 matrix to about the noise level', () => {
    const m = new BiasedMF({ factors: 3, epochs: 150, lr: 0.02, reg: 0.01, threads: 2 }).fit(d.train);
    const e = rmse(m.predictDense(d.testUsers, d.testItems), d.testRatings);
    expect(e).toBeLessThan(1.25 * d.noise);
  });

  it('agrees with the plain-TS SGD epoch in CSR order (shuffle off, one block, one thread)', () => {
    const p = { factors: 4, lr: 0.01, reg: 0.05, lrBias: 0.02, regBias: 0.03, blocks: 1, shuffle: false, threads: 1, seed: 5 };
    const init = new BiasedMF({ ...p, epochs: 0 }).fit(d.train);
    const s0 = init.nativeModel.state();
    const ref = {
      factors: 4,
      U: Float64Array.from(s0.user_factors!.data),
      V: Float64Array.from(s0.item_factors!.data),
      bu: new Float64Array(d.train.nUsers),
      bi: new Float64Array(d.train.nItems),
      mu: s0.global_bias!.data[0]!,
    };
    for (let e = 0; e < 2; e++) biasedMfEpoch(d.train.csr, ref, p);
    const s = new BiasedMF({ ...p, epochs: 2 }).fit(d.train).nativeModel.state();
    expect(maxDiff(s.user_factors!.data, ref.U)).toBeLessThan(1e-4);
    expect(maxDiff(s.item_factors!.data, ref.V)).toBeLessThan(1e-4);
    expect(maxDiff(s.user_bias!.data, ref.bu)).toBeLessThan(1e-4);
    expect(maxDiff(s.item_bias!.data, ref.bi)).toBeLessThan(1e-4);
    // and the factors did move
    expect(maxDiff(s.item_factors!.data, s0.item_factors!.data)).toBeGreaterThan(1e-3);
  });

  it('is reproducible: same seed and grid give the same model for any thread count; another seed differs', () => {
    const fit = (o: object) => new BiasedMF({ factors: 8, epochs: 3, ...o }).fit(d.train).predictDense(d.testUsers, d.testItems);
    const a = fit({ seed: 3, threads: 1 });
    expect(fit({ seed: 3, threads: 1 })).toEqual(a);
    expect(fit({ seed: 3, threads: 2 })).toEqual(a);
    expect(fit({ seed: 3, threads: 4 })).toEqual(a);
    expect(maxDiff(fit({ seed: 4, threads: 2 }), a)).toBeGreaterThan(1e-4);
    // any grid: its blocks run in a dataflow order on several threads, the same result as on one
    const g = fit({ seed: 3, threads: 1, blocks: 16 });
    expect(fit({ seed: 3, threads: 3, blocks: 16 })).toEqual(g);
    expect(fit({ seed: 3, threads: 16, blocks: 16 })).toEqual(g);
  });

  it('clips predictions to the rating scale and falls back to mu + the known bias for unknown ids', () => {
    const ds = Dataset.fromArrays({ users: ['a', 'a', 'b', 'b', 'c'], items: ['x', 'y', 'x', 'z', 'y'], ratings: [5, 4, 5, 1, 2] });
    const clip = (v: number) => Math.min(5, Math.max(1, v));
    const m = new BiasedMF({ factors: 2, epochs: 50, lr: 0.05 }).fit(ds);
    const s = m.nativeModel.state();
    const mu = s.global_bias!.data[0]!;
    expect(mu).toBeCloseTo(3.4, 5);
    const bx = s.item_bias!.data[ds.itemIndex('x')]!;
    const ba = s.user_bias!.data[ds.userIndex('a')]!;
    expect(Math.abs(bx)).toBeGreaterThan(0.01);
    expect(m.predict('nobody', 'x')).toBeCloseTo(clip(mu + bx), 5);
    expect(m.predict('a', 'nothing')).toBeCloseTo(clip(mu + ba), 5);
    expect(m.predict('nobody', 'nothing')).toBeCloseTo(mu, 5);
    // a scale narrower than the data clips every prediction into it
    const narrow = new BiasedMF({ factors: 2, epochs: 50, lr: 0.05, ratingMin: 2, ratingMax: 3 }).fit(ds);
    const all = narrow.predictDense(Int32Array.of(0, 0, 0, 1, 2, 2), Int32Array.of(0, 1, 2, 2, 0, 1));
    for (const v of all) expect(v >= 2 && v <= 3).toBe(true);
    const unbiased = new BiasedMF({ factors: 2, epochs: 5, biased: false }).fit(ds);
    expect(unbiased.predict('nobody', 'x')).toBeCloseTo(3.4, 5); // the global mean
  });

  it('folds in a held-out user about as well as training on them', () => {
    const u = d.testUsers[0]!;
    const { rest, items, ratings } = withoutUser(d.train, u);
    const p = { factors: 3, epochs: 150, lr: 0.02, reg: 0.01 };
    const e = foldInTestError(new BiasedMF(p).fit(rest), d, u, items, ratings);
    expect(e).toBeLessThan(3 * d.noise);
    // fold-in needs ratings for a rating model
    expect(code(() => new BiasedMF(p).fit(rest).recommendForNewUser({ items }))).toBe('E_ARG');
  });

  it('rejects bad parameters with E_ARG, in TS and natively', () => {
    for (const p of [
      { factors: -1 },
      { factors: 2.5 },
      { lr: 0 },
      { lr: -0.1 },
      { lr: NaN },
      { reg: -1 },
      { epochs: 1.5 },
      { epochs: -2 },
      { initStd: NaN },
      { blocks: -1 },
      { ratingMin: 5, ratingMax: 1 },
    ]) {
      expect(code(() => new BiasedMF(p as object))).toBe('E_ARG');
      expect(nativeCode('fitBiasedMF', d.train.csr, p, {})).toBe('E_ARG');
    }
  });

  it('reports progress per epoch with the training RMSE, and fits asynchronously', async () => {
    const seen: number[] = [];
    const m = await new BiasedMF({ factors: 4, epochs: 5 }).fitAsync(d.train, { onProgress: (p) => seen.push(p.loss!) });
    expect(seen).toHaveLength(5);
    expect(seen[4]!).toBeLessThan(seen[0]!);
    expect(m.recommend(d.train.users.id(0), { k: 5 })).toHaveLength(5);
    // an AbortSignal stops a long fit between epochs
    const ac = new AbortController();
    const long = new BiasedMF({ factors: 4, epochs: 1_000_000 }).fitAsync(d.train, { signal: ac.signal, onProgress: () => ac.abort() });
    await expect(long).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});
