import { describe, expect, it } from 'vitest';
import { Dataset, SlopeOne } from '../../ts/index.js';
import { code } from '../helpers/rejection.js';
import { nativeCode, planted, rmse } from './rating_data.js';
import { scaledRatings } from '../helpers/synthetic.js';

// Surprise's SlopeOne, written plainly (dense deviations), and the weighted variant.
function reference(ds: Dataset, u: number, i: number, weighted: boolean): number {
  const items = ds.userItems(u);
  const vals = ds.userValues(u)!;
  const raters = new Map<number, number>();
  ds.itemUsers(i).forEach((v) => raters.set(v, ds.userValues(v)![ds.userItems(v).indexOf(i)]!));
  let sum = 0;
  let wsum = 0;
  let cnt = 0;
  for (let t = 0; t < items.length; t++) {
    const j = items[t]!;
    let dev = 0;
    let f = 0;
    ds.itemUsers(j).forEach((v) => {
      if (!raters.has(v)) return;
      dev += raters.get(v)! - ds.userValues(v)![ds.userItems(v).indexOf(j)]!;
      f++;
    });
    if (f === 0) continue;
    dev /= f;
    if (weighted) {
      sum += (dev + vals[t]!) * f;
      wsum += f;
    } else {
      sum += dev;
      cnt++;
    }
  }
  const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
  if (weighted) return wsum > 0 ? sum / wsum : mean;
  return cnt > 0 ? mean + sum / cnt : mean;
}

describe('SlopeOne', () => {
  it('recovers planted additive structure to about the noise level', () => {
    const d = planted({ rank: 0, noise: 0.1 });
    for (const weighted of [false, true]) {
      const m = new SlopeOne({ weighted }).fit(d.train);
      expect(rmse(m.predictDense(d.testUsers, d.testItems), d.testRatings)).toBeLessThan(1.1 * d.noise);
    }
  });

  it("follows Surprise's rule (and the weighted one) exactly on small data", () => {
    const d = planted({ users: 30, items: 25, density: 0.3, rank: 2, noise: 0.5, seed: 8 });
    for (const weighted of [false, true]) {
      const m = new SlopeOne({ weighted, threads: 2 }).fit(d.train);
      const lo = Math.min(...d.train.csr.data!);
      const hi = Math.max(...d.train.csr.data!);
      for (let u = 0; u < d.train.nUsers; u++) {
        for (let i = 0; i < d.train.nItems; i++) {
          const want = Math.min(hi, Math.max(lo, reference(d.train, u, i, weighted)));
          expect(m.predictDense(Int32Array.of(u), Int32Array.of(i))[0]!).toBeCloseTo(want, 4);
        }
      }
    }
  });

  it("folds in a user's own ratings to that user's recommendations; unknown ids fall back", () => {
    const d = planted({ users: 50, items: 40, density: 0.3, seed: 4 });
    const m = new SlopeOne().fit(d.train);
    const u = 5;
    const items = Array.from(d.train.userItems(u), (i) => d.train.items.id(i));
    const got = m.recommendForNewUser({ items, ratings: Array.from(d.train.userValues(u)!) }, { k: 8 });
    const want = m.recommend(d.train.users.id(u), { k: 8 });
    expect(got.map((r) => r.item)).toEqual(want.map((r) => r.item));
    const ds = Dataset.fromArrays({ users: ['a', 'a', 'b'], items: ['x', 'y', 'x'], ratings: [1, 2, 3] });
    const s = new SlopeOne().fit(ds);
    expect(s.predict('a', 'nothing')).toBeCloseTo(1.5, 5); // the user's mean
    expect(s.predict('nobody', 'x')).toBeCloseTo(2, 5); // the global mean
    expect(code(() => s.similarItems('x'))).toBe('E_UNSUPPORTED');
  });

  it('rejects bad parameters with E_ARG, in TS and natively', () => {
    const d = planted({ users: 10, items: 10 });
    expect(code(() => new SlopeOne({ weighted: 1 as unknown as boolean }))).toBe('E_ARG');
    expect(nativeCode('fitSlopeOne', d.train.csr, d.train.csc, { weighted: 'no' }, {})).toBe('E_ARG');
    expect(code(() => new SlopeOne({ ratingMin: NaN }))).toBe('E_ARG');
  });

  it('a fit whose estimates would overflow the float range says so instead of saving a model that cannot load', () => {
    // Ratings 1e38..3e38: a user's mean plus an average deviation can pass FLT_MAX (3.4e38).
    const big = (u: number, j: number) => 1e38 * (1 + ((u * 3 + j) % 3));
    expect(() => new SlopeOne({ threads: 1 }).fit(scaledRatings(big))).toThrow(/SlopeOne diverged \(ratings so large that estimates overflow/);
    const ok = scaledRatings((u, j) => big(u, j) / 100);
    expect(Number.isFinite(new SlopeOne({ threads: 1 }).fit(ok).predict(0, 5))).toBe(true);
  });
});
