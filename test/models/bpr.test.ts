import { describe, expect, it } from 'vitest';
import { BPR, Dataset, plantedDataset, type FitProgress } from '../../ts/index.js';
import { bprEpoch } from '../../bench/reference/bpr.js';
import { Rng } from '../../bench/reference/rng.js';
import { holdout, precisionAt } from '../helpers/topn.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';

const rnd = mulberry32(33);
const small = (() => {
  const { users, items } = randomInteractions(30, 25, 6, rnd);
  return Dataset.fromArrays({ users, items });
})();
// Two users have seen most of the catalogue: their negatives come from the sampler's dense-row path.
const dense = (() => {
  const { users, items } = randomInteractions(30, 25, 6, rnd);
  for (const u of [31, 32])
    for (let i = 0; i < 25; i++)
      if (i % 7 !== u % 7) {
        users.push(u);
        items.push(i);
      }
  return Dataset.fromArrays({ users, items });
})();

describe('BPR', () => {
  it('starts from (uniform - 0.5) / factors drawn from per-row streams (the TS generator reproduces them)', () => {
    const m = new BPR({ factors: 5, epochs: 0, seed: 77 }).fit(small);
    const U = m.userFactors!;
    for (const u of [0, 7, 29]) {
      const r = new Rng(77, u);
      for (let f = 0; f < 5; f++) expect(U[u * 5 + f]).toBe(Math.fround((r.uniform() - 0.5) / 5));
    }
    const V = m.itemFactors!;
    const r = new Rng(77, (1n << 40n) + 3n);
    for (let f = 0; f < 5; f++) expect(V[3 * 5 + f]).toBe(Math.fround((r.uniform() - 0.5) / 5));
  });

  it.each([
    ['sparse rows', small],
    ['dense rows', dense],
  ])('one native epoch on one thread equals the plain-TS reference epoch (same samples): %s', (_, small) => {
    const p = { factors: 8, lr: 0.05, reg: 0.01, seed: 5 };
    const init = new BPR({ ...p, epochs: 0 }).fit(small).nativeModel.state();
    const state = {
      factors: 8,
      U: init.user_factors!.data as Float32Array,
      V: init.item_factors!.data as Float32Array,
      itemBias: init.item_bias!.data as Float32Array,
    };
    bprEpoch(small.csr, state, { lr: 0.05, reg: 0.01, seed: 5, epoch: 0 });
    bprEpoch(small.csr, state, { lr: 0.05, reg: 0.01, seed: 5, epoch: 1 });
    const two = new BPR({ ...p, epochs: 2, threads: 1 }).fit(small).nativeModel.state();
    const close = (a: Float32Array, b: Float32Array) => {
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
      return d;
    };
    expect(close(two.user_factors!.data as Float32Array, state.U)).toBeLessThan(1e-5);
    expect(close(two.item_factors!.data as Float32Array, state.V)).toBeLessThan(1e-5);
    expect(close(two.item_bias!.data as Float32Array, state.itemBias)).toBeLessThan(1e-5);
    // and it moved: item biases start at zero
    expect(Math.max(...Array.from(state.itemBias, Math.abs))).toBeGreaterThan(1e-3);
  });

  it('is reproducible from its seed on one thread; other seeds differ', () => {
    const a = new BPR({ factors: 8, epochs: 5, threads: 1, seed: 1 }).fit(small).userFactors!;
    const b = new BPR({ factors: 8, epochs: 5, threads: 1, seed: 1 }).fit(small).userFactors!;
    const c = new BPR({ factors: 8, epochs: 5, threads: 1, seed: 2 }).fit(small).userFactors!;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('multi-threaded (Hogwild) fits reach the single-threaded quality', () => {
    const ds = plantedDataset({ users: 400, items: 200, seed: 3 });
    const { train, test } = holdout(ds, 0.25, 4);
    const p1 = precisionAt(new BPR({ factors: 16, epochs: 30, lr: 0.05, threads: 1 }).fit(train), test);
    const p2 = precisionAt(new BPR({ factors: 16, epochs: 30, lr: 0.05, threads: 2 }).fit(train), test);
    expect(p2).toBeGreaterThan(p1 - 0.05);
  });

  it('reports a BPR loss that falls over the epochs', () => {
    const ds = plantedDataset({ users: 200, items: 100, seed: 9 });
    const losses: number[] = [];
    new BPR({ factors: 8, epochs: 20, lr: 0.05, computeLoss: true, threads: 1 }).fit(ds, { onProgress: (p: FitProgress) => losses.push(p.loss!) });
    expect(losses.length).toBe(20);
    expect(losses[0]!).toBeCloseTo(Math.log(2), 1);
    expect(losses[19]!).toBeLessThan(losses[0]! * 0.7);
  });

  it('folds in a new user deterministically (implicit #658 cannot)', () => {
    const ds = plantedDataset({ users: 200, items: 120, seed: 10 });
    const m = new BPR({ factors: 16, epochs: 40, lr: 0.05, threads: 1 }).fit(ds);
    const given = [5, 9, 14, 2].map((i) => ds.items.id(i));
    const a = m.recommendForNewUser({ items: given }, { k: 10 });
    const b = m.recommendForNewUser({ items: given }, { k: 10 });
    expect(a).toEqual(b);
    expect(a.filter((r) => ds.items.index(r.item) < 20).length).toBeGreaterThanOrEqual(6);
  });
});
