import { describe, expect, it } from 'vitest';
import { Dataset, RecsysError } from '../../ts/index.js';

describe('Dataset.fromArrays', () => {
  it('maps numeric and string ids densely in first-seen order, both ways', () => {
    const ds = Dataset.fromArrays({ users: ['u2', 'u1', 'u2', 7], items: [10, 20, 30, '10'], ratings: [1, 2, 3, 4] });
    expect(ds.nUsers).toBe(3);
    expect(ds.nItems).toBe(4); // 10 and '10' are different ids
    expect(ds.users.ids).toEqual(['u2', 'u1', 7]);
    expect(ds.users.index('u1')).toBe(1);
    expect(ds.users.index('nope')).toBe(-1);
    expect(ds.items.id(3)).toBe('10');
    expect(Array.from(ds.userItems(0))).toEqual([0, 2]);
    expect(Array.from(ds.userValues(0)!)).toEqual([1, 3]);
  });

  it('builds CSR and CSC that agree with a plain reference', () => {
    const users = [0, 1, 0, 2, 1, 2, 2];
    const items = [2, 0, 0, 1, 2, 2, 0];
    const ratings = [5, 4, 3, 2, 1, 5, 4];
    const ds = Dataset.fromArrays({ users, items, ratings });
    // dense ids: users 0,1,2 -> 0,1,2; items 2,0,1 -> 0,1,2
    const dense = new Map<string, number>();
    users.forEach((u, p) => dense.set(`${ds.users.index(u)},${ds.items.index(items[p]!)}`, ratings[p]!));
    for (let u = 0; u < ds.nUsers; u++) {
      const its = Array.from(ds.userItems(u));
      expect(its).toEqual([...its].sort((a, b) => a - b));
      its.forEach((i, j) => expect(ds.userValues(u)![j]).toBe(dense.get(`${u},${i}`)));
    }
    for (let i = 0; i < ds.nItems; i++) {
      for (const u of ds.itemUsers(i)) expect(dense.has(`${u},${i}`)).toBe(true);
    }
    expect(ds.csc.indptr[ds.nItems]).toBe(ds.nnz);
  });

  it('takes a Float32Array of ratings and a Float64Array of timestamps without copying them into JS arrays', () => {
    const ratings = Float32Array.from([1, 2]);
    const timestamps = Float64Array.from([100, 50]);
    const ds = Dataset.fromArrays({ users: Int32Array.from([1, 2]), items: Int32Array.from([1, 1]), ratings, timestamps });
    expect(ds.hasRatings && ds.hasTimestamps).toBe(true);
    expect(Array.from(ds.csr.times!)).toEqual([100, 50]);
  });

  it.each([
    ['last', [4], [30]],
    ['sum', [7], [30]],
    ['max', [4], [30]],
  ] as const)('duplicates: %s', (policy, values, times) => {
    const ds = Dataset.fromArrays({ users: [1, 1], items: [5, 5], ratings: [3, 4], timestamps: [10, 30] }, { duplicates: policy });
    expect(Array.from(ds.csr.data!)).toEqual(values);
    expect(Array.from(ds.csr.times!)).toEqual(times);
    expect(ds.duplicatesMerged).toBe(1);
  });

  it("duplicates: 'max' keeps the first maximum and its time", () => {
    const ds = Dataset.fromArrays({ users: [1, 1, 1], items: [5, 5, 5], ratings: [3, 5, 2], timestamps: [1, 2, 3] }, { duplicates: 'max' });
    expect(Array.from(ds.csr.data!)).toEqual([5]);
    expect(Array.from(ds.csr.times!)).toEqual([2]);
  });

  it("duplicates: 'error' throws E_DUPLICATE", () => {
    expect(() => Dataset.fromArrays({ users: [1, 1], items: [5, 5] }, { duplicates: 'error' })).toThrow(expect.objectContaining({ code: 'E_DUPLICATE' }));
  });

  it('stats: counts, density and the rating histogram', () => {
    const ds = Dataset.fromArrays({ users: [1, 1, 2], items: [1, 2, 1], ratings: [5, 3, 5] });
    const s = ds.stats();
    expect(s).toMatchObject({ users: 2, items: 2, interactions: 3, density: 0.75, ratingHistogram: { '3': 1, '5': 2 }, ratingMin: 3, ratingMax: 5 });
    expect(s.ratingMean).toBeCloseTo(13 / 3);
  });

  it.each([
    [{ users: [1, 2], items: [1] }, /items has 1 entries/],
    [{ users: [1], items: [1], ratings: [NaN] }, /ratings\[0\] is NaN/],
    [{ users: [1], items: [1], timestamps: [Infinity] }, /timestamps\[0\]/],
    [{ users: [null], items: [1] }, /users\[0\] is null; ids must be numbers or strings/],
    [{ users: [NaN], items: [1] }, /users\[0\] is NaN/],
    [null, /fromArrays expects/],
  ])('bad input %# gives E_ARG naming the argument', (input, message) => {
    let err: unknown;
    try {
      Dataset.fromArrays(input as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecsysError);
    expect((err as RecsysError).code).toBe('E_ARG');
    expect((err as RecsysError).message).toMatch(message);
  });

  it('an empty dataset is allowed, and fitting on it is E_EMPTY', async () => {
    const ds = Dataset.fromArrays({ users: [], items: [] });
    expect(ds.nnz).toBe(0);
    const { Popularity } = await import('../../ts/index.js');
    expect(() => new Popularity().fit(ds)).toThrow(expect.objectContaining({ code: 'E_EMPTY' }));
  });
});
