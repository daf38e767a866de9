// What every implicit-feedback model must do through the common interface: recover planted taste groups far
// better than popularity, batched top-K equal to brute force over the model's own scores, seen filtering and
// include/exclude corner cases (implicit #365, #476, #736), fold-in, similar items/users, async fit, bad options.
import { describe, expect, it } from 'vitest';
import { code } from '../helpers/rejection.js';
import { BPR, Dataset, EASE, ImplicitALS, ItemKNN, Popularity, PureSVD, plantedDataset, type Recommender } from '../../ts/index.js';
import { holdout, precisionAt } from '../helpers/topn.js';

const makers: [string, () => Recommender, boolean][] = [
  ['ImplicitALS', () => new ImplicitALS({ factors: 16, iterations: 10, reg: 0.1, threads: 2 }), true],
  ['ImplicitALS cholesky', () => new ImplicitALS({ factors: 16, iterations: 10, reg: 0.1, solver: 'cholesky', threads: 2 }), true],
  ['BPR', () => new BPR({ factors: 16, epochs: 40, lr: 0.05, threads: 1 }), true],
  ['ItemKNN cosine', () => new ItemKNN({ k: 30, threads: 2 }), false],
  ['ItemKNN tfidf', () => new ItemKNN({ similarity: 'tfidf', k: 30 }), false],
  ['ItemKNN bm25', () => new ItemKNN({ similarity: 'bm25', k: 30 }), false],
  ['EASE', () => new EASE({ lambda: 50, binary: true, threads: 2 }), false],
  ['PureSVD', () => new PureSVD({ factors: 12, binary: true }), true],
];

const planted = plantedDataset({ users: 300, items: 240, groups: 6, perUser: 30, affinity: 0.85, seed: 5 });
const { train, test } = holdout(planted, 0.25, 3);
const popP10 = precisionAt(new Popularity().fit(train), test);

describe.each(makers)('%s', (_name, make, hasUserSimilarity) => {
  const model = make().fit(train);

  it('recovers planted taste groups: P@10 far above popularity', () => {
    const p = precisionAt(model, test);
    expect(popP10).toBeLessThan(0.1);
    expect(p).toBeGreaterThan(Math.max(0.25, popP10 * 4));
  });

  it('recommendBatch equals brute-force top-k over the model scores, for several thread counts', () => {
    const users = Int32Array.from({ length: 60 }, (_, j) => j * 5);
    const scores = model.scoreUsersDense(users);
    const n = train.nItems;
    const batch = model.recommendBatchDense(users, { k: 12 });
    users.forEach((u, r) => {
      const seen = new Set(train.userItems(u));
      const expected = [...Array(n).keys()]
        .filter((i) => !seen.has(i))
        .sort((a, b) => scores[r * n + b]! - scores[r * n + a]! || a - b)
        .slice(0, 12);
      expect(Array.from(batch.items.subarray(r * batch.k, r * batch.k + batch.counts[r]!))).toEqual(expected);
      const one = model.recommend(train.users.id(u), { k: 12 });
      expect(one.map((x) => train.items.index(x.item))).toEqual(expected);
    });
  });

  it('handles the seen-filter corner cases: k beyond the catalogue, empty include, exclude overlapping seen', () => {
    const u = train.users.id(7);
    const seen = new Set(train.userItems(7));
    const all = model.recommend(u, { k: 10_000 });
    expect(all.length).toBe(train.nItems - seen.size);
    expect(all.every((r) => !seen.has(train.items.index(r.item)))).toBe(true);
    expect(model.recommend(u, { k: 10, include: [] })).toEqual([]);
    const seenIds = [...seen].slice(0, 3).map((i) => train.items.id(i));
    const unseen = all.slice(0, 2).map((r) => r.item);
    const ex = model.recommend(u, { k: 10_000, exclude: [...seenIds, ...unseen] });
    expect(ex.length).toBe(all.length - 2);
    expect(ex.some((r) => unseen.includes(r.item))).toBe(false);
    const inc = model.recommend(u, { k: 10, include: [...seenIds, unseen[0]!] });
    expect(inc.map((r) => r.item)).toEqual([unseen[0]]);
    const unfiltered = model.recommend(u, { k: 10_000, filterSeen: false });
    expect(unfiltered.length).toBe(train.nItems);
  });

  it('recommends to a new user by fold-in, close to the groups of the items given', () => {
    // a new user who took 12 items of group 2's slice
    const slice = train.items.ids.filter((_, i) => Math.floor((i * 6) / train.nItems) === 2);
    const recs = model.recommendForNewUser({ items: slice.slice(0, 12) }, { k: 10 });
    expect(recs.length).toBe(10);
    const inSlice = recs.filter((r) => slice.includes(r.item)).length;
    expect(inSlice).toBeGreaterThanOrEqual(7);
    expect(recs.some((r) => slice.slice(0, 12).includes(r.item))).toBe(false);
    // No known item: an error, not scores from nothing (test/serve/fold-in.test.ts covers the fallback).
    expect(() => model.recommendForNewUser({ items: [] }, { k: 3 })).toThrow(/none of the 0 given items is known/);
    expect(model.recommendForNewUser({ items: [] }, { k: 3, fallback: 'popularity' }).length).toBe(3);
  });

  it('similarItems excludes the item itself and favours its slice', () => {
    const item = train.items.id(5);
    const sims = model.similarItems(item, 10);
    expect(sims.length).toBeGreaterThan(0);
    expect(sims.some((s) => s.item === item)).toBe(false);
    const sliceOf = (id: unknown) => Math.floor((train.items.index(id as number) * 6) / train.nItems);
    expect(sims.filter((s) => sliceOf(s.item) === sliceOf(item)).length).toBeGreaterThanOrEqual(Math.ceil(sims.length * 0.6));
  });

  it(hasUserSimilarity ? 'similarUsers finds users of the same group' : 'similarUsers is unsupported', () => {
    if (!hasUserSimilarity) {
      expect(code(() => model.similarUsers(train.users.id(0), 5))).toBe('E_UNSUPPORTED');
      return;
    }
    const sims = model.similarUsers(train.users.id(6), 10);
    expect(sims.length).toBe(10);
    expect(sims.filter((s) => train.users.index(s.user) % 6 === 0).length).toBeGreaterThanOrEqual(7);
  });

  it('fits asynchronously to the same recommendations', async () => {
    const m = await make().fitAsync(train);
    if (!(model instanceof BPR) || (model.params.threads ?? 0) === 1) {
      expect(m.recommend(train.users.id(3), { k: 5 })).toEqual(model.recommend(train.users.id(3), { k: 5 }));
    }
  });
});

describe('a user who has seen every item (implicit #365)', () => {
  const users: number[] = [],
    items: number[] = [];
  for (let u = 0; u < 30; u++)
    for (let i = 0; i < 20; i++)
      if (u === 0 || (u + i) % 3 === 0) {
        users.push(u);
        items.push(i);
      }
  const ds = Dataset.fromArrays({ users, items });
  it.each(makers)('%s: fits, and gives that user nothing (or everything unfiltered)', (_n, make) => {
    const m = make().fit(ds);
    expect(m.recommend(0, { k: 5 })).toEqual([]);
    expect(m.recommendBatch([0, 1], { k: 5 })[0]).toEqual([]);
    expect(m.recommend(0, { k: 50, filterSeen: false }).length).toBe(20);
    expect(m.recommendForNewUser({ items: Array.from({ length: 20 }, (_, i) => i) }, { k: 5 })).toEqual([]);
  });
});

describe('bad options give E_ARG', () => {
  it.each([
    () => new ImplicitALS({ factors: 0 }),
    () => new ImplicitALS({ alpha: -1 }),
    () => new ImplicitALS({ solver: 'lu' as 'cg' }),
    () => new ImplicitALS({ iterations: 1.5 }),
    () => new ImplicitALS({ factor: 3 } as object),
    () => new BPR({ lr: 0 }),
    () => new BPR({ reg: -0.1 }),
    () => new BPR({ epochs: -1 }),
    () => new ItemKNN({ similarity: 'jaccard' as 'cosine' }),
    () => new ItemKNN({ k: 0 }),
    () => new ItemKNN({ b: 2 }),
    () => new EASE({ lambda: 0 }),
    () => new EASE({ gram: 'fast' as 'auto' }),
    () => new PureSVD({ factors: 0 }),
    () => new PureSVD({ powerIterations: -1 }),
    () => new BPR({ threads: -1 }),
  ])('case %#', (make) => {
    expect(code(make)).toBe('E_ARG');
  });

  it('the native layer checks what it is handed too', () => {
    expect(code(() => new PureSVD({ factors: 10_000 }).fit(train))).toBe('E_ARG');
  });
});
