import { describe, expect, it } from 'vitest';
import { Dataset, EASE, IdMap, RecsysError } from '../../ts/index.js';
import { easeWeights } from '../../bench/reference/svd.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';

describe('EASE', () => {
  const rnd = mulberry32(55);
  const { users, items, ratings } = randomInteractions(50, 25, 8, rnd);
  const ds = Dataset.fromArrays({ users, items, ratings });
  const dense = (binary: boolean) => {
    const X = new Float64Array(ds.nUsers * ds.nItems);
    const { indptr, indices, data } = ds.csr;
    for (let u = 0; u < ds.nUsers; u++) for (let p = indptr[u]!; p < indptr[u + 1]!; p++) X[u * ds.nItems + indices[p]!] = binary ? 1 : data![p]!;
    return X;
  };

  it.each([
    ['dense', true],
    ['sparse', true],
    ['dense', false],
    ['sparse', false],
    ['auto', true],
  ] as const)('gram %s (binary %s): weights and scores equal a dense reference', (gram, binary) => {
    const lambda = 7;
    const m = new EASE({ lambda, binary, gram, threads: 2 }).fit(ds);
    const X = dense(binary);
    const B = easeWeights(X, ds.nUsers, ds.nItems, lambda);
    const got = m.nativeModel.state().B!.data;
    const scale = Math.max(...Array.from(B, Math.abs));
    for (let t = 0; t < B.length; t++) expect(Math.abs(got[t]! - B[t]!)).toBeLessThan(1e-4 * scale);
    const n = ds.nItems;
    const scores = m.scoreUsersDense(Int32Array.of(0, 31));
    [0, 31].forEach((u, r) => {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += X[u * n + i]! * B[i * n + j]!;
        expect(scores[r * n + j]).toBeCloseTo(s, 3);
      }
    });
    // fold-in of a training user's row gives that user's scores
    const fold = m.recommendForNewUser({ items: Array.from(ds.userItems(0), (i) => ds.items.id(i)), ratings: Array.from(ds.userValues(0)!) }, { k: 5 });
    expect(fold).toEqual(m.recommend(ds.users.id(0), { k: 5 }));
  });

  it('refuses, before allocating, an item count whose items^2 matrix exceeds maxMemoryBytes', () => {
    const m = new EASE({ maxMemoryBytes: 1000 });
    let err: unknown;
    try {
      m.fit(ds);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecsysError);
    expect((err as RecsysError).code).toBe('E_MEMORY');
    expect((err as RecsysError).message).toMatch(/needs \d+ bytes/);
    expect((err as RecsysError).message).toContain('maxMemoryBytes');
    // a 200k-item catalogue needs 160 GB: refused at once under the default limit (half the physical memory)
    const big = Dataset.fromCoo(new IdMap([1, 2]), new IdMap(Array.from({ length: 200_000 }, (_, i) => i)), Int32Array.of(0, 1), Int32Array.of(0, 199_999));
    expect(() => new EASE().fit(big)).toThrow(expect.objectContaining({ code: 'E_MEMORY', message: expect.stringContaining('160000000000 bytes') }));
  });
});
