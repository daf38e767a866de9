import { describe, expect, it } from 'vitest';
import { BaselineOnly, Dataset, Popularity, Random, RecsysError } from '../../ts/index.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';

// Plain reference of Surprise's baseline ALS: items first, then users, each epoch.
function referenceBaselines(ds: Dataset, regUser = 15, regItem = 10, epochs = 10) {
  const { indptr, indices, data } = ds.csr;
  let mu = 0;
  for (let p = 0; p < ds.nnz; p++) mu += data![p]!;
  mu /= ds.nnz;
  const bu = new Float64Array(ds.nUsers);
  const bi = new Float64Array(ds.nItems);
  for (let e = 0; e < epochs; e++) {
    const dev = new Float64Array(ds.nItems);
    const cnt = new Float64Array(ds.nItems);
    for (let u = 0; u < ds.nUsers; u++)
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        dev[indices[p]!]! += data![p]! - mu - bu[u]!;
        cnt[indices[p]!]!++;
      }
    for (let i = 0; i < ds.nItems; i++) bi[i] = dev[i]! / (regItem + cnt[i]!);
    for (let u = 0; u < ds.nUsers; u++) {
      let d = 0;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) d += data![p]! - mu - bi[indices[p]!]!;
      bu[u] = d / (regUser + (indptr[u + 1]! - indptr[u]!));
    }
  }
  return { mu, bu, bi };
}

describe('BaselineOnly', () => {
  const rnd = mulberry32(5);
  const data = randomInteractions(60, 40, 12, rnd);
  const ds = Dataset.fromArrays(data);

  it('matches a plain reference of the ALS baselines, for any thread count', () => {
    const ref = referenceBaselines(ds);
    for (const threads of [1, 2, 3]) {
      const m = new BaselineOnly({ threads }).fit(ds);
      for (let u = 0; u < ds.nUsers; u += 7)
        for (let i = 0; i < ds.nItems; i += 3) {
          const expected = Math.min(5, Math.max(1, ref.mu + ref.bu[u]! + ref.bi[i]!));
          expect(m.predict(ds.users.id(u), ds.items.id(i))).toBeCloseTo(expected, 4);
        }
    }
  });

  it('falls back for unknown users and items: mu + the known side', () => {
    const ref = referenceBaselines(ds);
    const m = new BaselineOnly().fit(ds);
    expect(m.predict('nobody', 'nothing')).toBeCloseTo(ref.mu, 5);
    expect(m.predict('nobody', ds.items.id(2))).toBeCloseTo(ref.mu + ref.bi[2]!, 5);
    expect(m.predict(ds.users.id(4), 'nothing')).toBeCloseTo(ref.mu + ref.bu[4]!, 5);
  });

  it('SGD baselines lower the training error from the global mean', () => {
    const m = new BaselineOnly({ method: 'sgd' }).fit(ds);
    const { indptr, indices, data: r } = ds.csr;
    let mu = 0;
    for (let p = 0; p < ds.nnz; p++) mu += r![p]!;
    mu /= ds.nnz;
    let e0 = 0,
      e1 = 0;
    for (let u = 0; u < ds.nUsers; u++)
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        e0 += (r![p]! - mu) ** 2;
        e1 += (r![p]! - m.predict(ds.users.id(u), ds.items.id(indices[p]!))) ** 2;
      }
    expect(e1).toBeLessThan(e0);
  });

  it('needs ratings, and rejects bad parameters with E_ARG', () => {
    const implicit = Dataset.fromArrays({ users: [1, 2], items: [1, 2] });
    expect(() => new BaselineOnly().fit(implicit)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new BaselineOnly({ method: 'magic' as never })).toThrow(RecsysError);
    expect(() => new BaselineOnly({ regUser: -1 }).fit(ds)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new BaselineOnly({ epochs: 2.5 }).fit(ds)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new BaselineOnly({ lr: 0, method: 'sgd' }).fit(ds)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new BaselineOnly({ threads: -1 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});

describe('Popularity', () => {
  const ds = Dataset.fromArrays({ users: ['a', 'a', 'b', 'b', 'c', 'c', 'c'], items: [1, 2, 1, 3, 1, 3, 4] });

  it('ranks by interaction count, filters seen items, honours include/exclude', () => {
    const m = new Popularity().fit(ds);
    expect(m.recommend('a', { k: 5 })).toEqual([
      { item: 3, score: 2 },
      { item: 4, score: 1 },
    ]);
    expect(m.recommend('a', { k: 5, filterSeen: false }).map((r) => r.item)).toEqual([1, 3, 2, 4]); // ties: smaller dense index first
    expect(m.recommend('a', { exclude: [3] }).map((r) => r.item)).toEqual([4]);
    expect(m.recommend('a', { include: [4, 'unknown'] }).map((r) => r.item)).toEqual([4]);
    expect(m.recommend('a', { include: [] })).toEqual([]);
    expect(m.recommend('c', { k: 10 })).toEqual([{ item: 2, score: 1 }]);
  });

  it('recommendBatch equals recommend for every user', () => {
    const m = new Popularity({ threads: 2 }).fit(ds);
    const users = ['c', 'a', 'b', 'a'];
    expect(m.recommendBatch(users, { k: 2 })).toEqual(users.map((u) => m.recommend(u, { k: 2 })));
  });

  it('unknown users and bad k give typed errors', () => {
    const m = new Popularity().fit(ds);
    expect(() => m.recommend('zz')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_USER' }));
    expect(() => m.recommendBatch(['a', 'zz'])).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_USER' }));
    expect(() => m.recommend('a', { k: -1 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => m.recommend('a', { k: 1.5 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new Popularity().recommend('a')).toThrow(expect.objectContaining({ code: 'E_NOT_FITTED' }));
  });

  it('recommends to a new user from the items they touched', () => {
    const m = new Popularity().fit(ds);
    expect(m.recommendForNewUser({ items: [1, 'x'] }, { k: 2 }).map((r) => r.item)).toEqual([3, 2]);
  });
});

describe('Random', () => {
  const ds = Dataset.fromArrays({ users: [1, 1, 2, 3], items: [1, 2, 3, 4] });
  it('is reproducible for a seed and differs between seeds', () => {
    const a = new Random({ seed: 1 }).fit(ds).recommend(2, { k: 4 });
    const b = new Random({ seed: 1 }).fit(ds).recommend(2, { k: 4 });
    const c = new Random({ seed: 2 }).fit(ds).recommend(2, { k: 4 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

describe('fitAsync', () => {
  const rnd = mulberry32(9);
  const ds = Dataset.fromArrays(randomInteractions(300, 200, 30, rnd));

  it('runs off the event loop, reports progress and gives the same model as fit', async () => {
    const seen: number[] = [];
    const m = await new BaselineOnly().fitAsync(ds, { onProgress: (p) => seen.push(p.step) });
    expect(seen.length).toBeGreaterThan(0);
    const s = new BaselineOnly().fit(ds);
    expect(m.predict(3, 5)).toBe(s.predict(3, 5));
  });

  it('aborting mid-fit stops the native loop and rejects with E_CANCELLED', async () => {
    const ac = new AbortController();
    const p = new BaselineOnly({ epochs: 100_000 }).fitAsync(ds, { signal: ac.signal, onProgress: () => ac.abort() });
    await expect(p).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });

  it('an aborted signal rejects with E_CANCELLED', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(new BaselineOnly().fitAsync(ds, { signal: ac.signal })).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});
