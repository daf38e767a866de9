// Issue 12 item 4 (native models): every fit estimates its memory before allocating and refuses with E_MEMORY
// above maxMemoryBytes, naming the bytes, what they are for and the option.
import { describe, expect, it } from 'vitest';
import * as r from '../../ts/index.js';
import { synthetic } from '../helpers/synthetic.js';

const families: Array<[string, (o: { maxMemoryBytes?: number }) => { fit(d: r.Dataset): unknown }]> = [
  ['ImplicitALS', (o) => new r.ImplicitALS({ ...o, factors: 8, iterations: 1 })],
  ['ExplicitALS', (o) => new r.ExplicitALS({ ...o, factors: 8, epochs: 1 })],
  ['BPR', (o) => new r.BPR({ ...o, factors: 8, epochs: 1 })],
  ['BiasedMF', (o) => new r.BiasedMF({ ...o, factors: 8, epochs: 1 })],
  ['SVDpp', (o) => new r.SVDpp({ ...o, factors: 8, epochs: 1 })],
  ['NMF', (o) => new r.NMF({ ...o, factors: 8, epochs: 1 })],
  ['ItemKNN', (o) => new r.ItemKNN(o)],
  ['KNNBasic', (o) => new r.KNNBasic(o)],
  ['KNNWithMeans', (o) => new r.KNNWithMeans(o)],
  ['KNNBaseline', (o) => new r.KNNBaseline(o)],
  ['SlopeOne', (o) => new r.SlopeOne(o)],
  ['PureSVD', (o) => new r.PureSVD({ ...o, factors: 8 })],
  ['EASE', (o) => new r.EASE(o)],
  ['LightGCN', (o) => new r.LightGCN({ ...o, factors: 8, epochs: 1 })],
  ['SANSA', (o) => new r.SANSA(o)],
  ['BaselineOnly', (o) => new r.BaselineOnly(o)],
  ['Popularity', (o) => new r.Popularity(o)],
];

describe('maxMemoryBytes', () => {
  const ds = synthetic({ users: 80, items: 50, minPerUser: 3, maxPerUser: 15, seed: 11 });

  it.each(families)('%s refuses above the limit with E_MEMORY naming bytes and option, and fits under it', (name, make) => {
    let err: unknown;
    try {
      make({ maxMemoryBytes: 100 }).fit(ds);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(r.RecsysError);
    expect((err as r.RecsysError).code).toBe('E_MEMORY');
    expect((err as r.RecsysError).message).toMatch(new RegExp(`^${name} needs \\d+ bytes .* for .*maxMemoryBytes = 100 .*raise maxMemoryBytes`));
    expect(() => make({ maxMemoryBytes: 1e9 }).fit(ds)).not.toThrow();
  });

  it('is a common option checked like the others', () => {
    expect(() => new r.ItemKNN({ maxMemoryBytes: -1 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });

  it('SlopeOne counts co-rated pairs, not items^2: a sparse catalogue of many items fits in little memory', () => {
    // 20,000 items, each user rating 3: items^2 x 24 bytes would be ~9.6 GB; the co-rated pairs are a few thousand.
    const users = Array.from({ length: 300 * 3 }, (_, p) => `u${Math.floor(p / 3)}`);
    const items = Array.from({ length: 300 * 3 }, (_, p) => `i${(p * 7919) % 20000}`);
    const ratings = Array.from({ length: 900 }, (_, p) => 1 + (p % 5));
    const big = r.Dataset.fromArrays({ users, items, ratings });
    expect(() => new r.SlopeOne({ maxMemoryBytes: 64 << 20 }).fit(big)).not.toThrow();
  });
});
