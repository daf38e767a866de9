import { describe, expect, it } from 'vitest';
import { Dataset, FactorModel } from '../../ts/index.js';
import { mulberry32, randomMatrix } from '../helpers/random.js';

describe('FactorModel.fromFactors', () => {
  const rnd = mulberry32(3);
  const nU = 50,
    nI = 300,
    f = 8;
  const U = randomMatrix(nU, f, rnd),
    V = randomMatrix(nI, f, rnd);
  const itemBias = randomMatrix(1, nI, rnd);
  const users = Array.from({ length: nU }, (_, u) => `u${u}`);
  const items = Array.from({ length: nI }, (_, i) => i * 10);
  const score = (u: number, i: number) => {
    let s = 0.5 + itemBias[i]!;
    for (let d = 0; d < f; d++) s += U[u * f + d]! * V[i * f + d]!;
    return s;
  };

  it('recommends the brute-force top-k of global + b_i + <p_u, q_i>', () => {
    const m = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V, itemBias, globalBias: 0.5 });
    for (let u = 0; u < nU; u += 5) {
      const expected = [...Array(nI).keys()].sort((a, b) => score(u, b) - score(u, a) || a - b).slice(0, 15);
      const got = m.recommend(`u${u}`, { k: 15 });
      expect(got.map((r) => r.item)).toEqual(expected.map((i) => i * 10));
      got.forEach((r, j) => expect(r.score).toBeCloseTo(score(u, expected[j]!), 4));
    }
  });

  it('batched top-k (any thread count) equals one-by-one top-k, with seen filtering', () => {
    const seenUsers: string[] = [];
    const seenItems: number[] = [];
    for (let u = 0; u < nU; u++)
      for (let j = 0; j < 20; j++) {
        seenUsers.push(`u${u}`);
        seenItems.push(Math.floor(rnd() * nI) * 10);
      }
    const base = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V });
    const seen = Dataset.fromCoo(
      base.trainData.users,
      base.trainData.items,
      base.trainData.users.indicesOf(seenUsers),
      base.trainData.items.indicesOf(seenItems),
    );
    for (const threads of [1, 2, 4]) {
      const m = FactorModel.fromFactors({
        users: base.trainData.users,
        items: base.trainData.items,
        factors: f,
        userFactors: U,
        itemFactors: V,
        seen,
        threads,
      });
      const batch = m.recommendBatch(users, { k: 12 });
      users.forEach((u, r) => {
        // Same items; scores equal up to float rounding (gemm for the batch, gemv for one user).
        const one = m.recommend(u, { k: 12 });
        expect(batch[r]!.map((x) => x.item)).toEqual(one.map((x) => x.item));
        batch[r]!.forEach((x, j) => expect(x.score).toBeCloseTo(one[j]!.score, 5));
      });
      for (const r of batch[0]!) expect(seen.userItems(0)).not.toContain(m.trainData.items.index(r.item));
    }
  });

  it('similarItems ranks by cosine and leaves the item itself out', () => {
    const m = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V });
    const cos = (a: number, b: number) => {
      let d = 0,
        na = 0,
        nb = 0;
      for (let k = 0; k < f; k++) {
        d += V[a * f + k]! * V[b * f + k]!;
        na += V[a * f + k]! ** 2;
        nb += V[b * f + k]! ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    const expected = [...Array(nI).keys()]
      .filter((i) => i !== 7)
      .sort((a, b) => cos(7, b) - cos(7, a) || a - b)
      .slice(0, 5);
    expect(m.similarItems(70, 5).map((r) => r.item)).toEqual(expected.map((i) => i * 10));
  });

  it('rejects mis-sized or non-finite factors with E_ARG', () => {
    expect(() => FactorModel.fromFactors({ users, items, factors: f, userFactors: U.subarray(1), itemFactors: V })).toThrow(
      expect.objectContaining({ code: 'E_ARG' }),
    );
    const bad = V.slice();
    bad[3] = NaN;
    expect(() => FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: bad })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => FactorModel.fromFactors({ users: ['a', 'a'], items, factors: 0, userFactors: new Float32Array(0), itemFactors: new Float32Array(0) })).toThrow(
      expect.objectContaining({ code: 'E_ARG' }),
    );
  });
});
