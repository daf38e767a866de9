// Approximate top-K (HNSW over item factors, issue 15 part 4): recall against exact, filters honoured inside the
// search, the exact fallback, the index stored in model files, and crafted graph tensors refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BiasedMF, BPR, Dataset, ExplicitALS, FactorModel, ImplicitALS, LightGCN, loadModel, NMF, PureSVD, SVDpp, plantedDataset } from '../../ts/index.js';
import type { FactorRecommender } from '../../ts/models/base.js';
import { addon, type NativeTensor } from '../../ts/native.js';
import { mulberry32, randomMatrix } from '../helpers/random.js';
import { synthetic } from '../helpers/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-ann-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nU = 120,
  nI = 6000,
  f = 24;
const rnd = mulberry32(11);
const U = randomMatrix(nU, f, rnd);
// Items of varied norms (what makes inner-product search differ from cosine search).
const V = randomMatrix(nI, f, rnd).map((x, p) => x * (0.3 + ((p / f) % 7) / 5));
const itemBias = randomMatrix(1, nI, rnd).map((x) => x * 0.5);
const users = Array.from({ length: nU }, (_, u) => u);
const items = Array.from({ length: nI }, (_, i) => i);

function model(ann: 'hnsw' | 'exact', extra: Partial<Parameters<typeof FactorModel.fromFactors>[0]> = {}) {
  return FactorModel.fromFactors({
    users,
    items,
    factors: f,
    userFactors: U,
    itemFactors: V,
    itemBias,
    annOptions: { ann, annEfSearch: 100, seed: 5 },
    threads: 1,
    ...extra,
  });
}

function recall(got: { item: unknown }[], want: { item: unknown }[]): number {
  const w = new Set(want.map((r) => r.item));
  return want.length === 0 ? 1 : got.filter((r) => w.has(r.item)).length / want.length;
}

describe('approximate top-K (HNSW)', () => {
  const approx = model('hnsw');
  const exact = model('exact');

  it('builds the index when asked, and not for exact or below the threshold', () => {
    expect(approx.annIndex).toMatchObject({ items: nI, M: 16, efConstruction: 100, efSearch: 100 });
    expect(approx.annIndex!.bytes).toBeGreaterThan(nI * (f + 2) * 4);
    expect(exact.annIndex).toBeNull();
    const auto = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V, annOptions: { ann: 'auto', annThreshold: nI + 1 } });
    expect(auto.annIndex).toBeNull();
    const autoOn = FactorModel.fromFactors({ users, items, factors: f, userFactors: U, itemFactors: V, annOptions: { ann: 'auto', annThreshold: nI } });
    expect(autoOn.annIndex).not.toBeNull();
  });

  it('recall@10 against exact is at least 0.95, with exact scores for what it returns', () => {
    let sum = 0;
    for (const u of users) {
      const a = approx.recommend(u, { k: 10 });
      const e = exact.recommend(u, { k: 10 });
      expect(a).toHaveLength(10);
      for (const r of a) expect(r.score).toBeCloseTo(exact.predict(u, r.item), 4);
      for (let j = 1; j < a.length; j++) expect(a[j]!.score).toBeLessThanOrEqual(a[j - 1]!.score);
      sum += recall(a, e);
    }
    expect(sum / nU).toBeGreaterThanOrEqual(0.95);
  });

  it('honours seen items, exclude and include inside the search and still returns exactly k', () => {
    const rs = mulberry32(2);
    const su: number[] = [],
      si: number[] = [];
    for (const u of users)
      for (let j = 0; j < 50; j++) {
        su.push(u);
        si.push(Math.floor(rs() * nI));
      }
    const seen = Dataset.fromCoo(approx.trainData.users, approx.trainData.items, Int32Array.from(su), Int32Array.from(si));
    const a = model('hnsw', { seen, users: approx.trainData.users, items: approx.trainData.items });
    const e = model('exact', { seen, users: approx.trainData.users, items: approx.trainData.items });
    // Exclude the exact answer's best items, so the filter must act during the search.
    let sum = 0;
    let n = 0;
    for (const u of users.slice(0, 60)) {
      const top = e.recommend(u, { k: 5 }).map((r) => r.item as number);
      const include = items.filter((i) => i % 3 !== 0); // two thirds of the catalogue: still the graph path
      const opts = { k: 10, exclude: top, include };
      const got = a.recommend(u, opts);
      expect(got).toHaveLength(10);
      const seenU = new Set(si.filter((_, p) => su[p] === u));
      for (const r of got) {
        expect(seenU.has(r.item as number)).toBe(false);
        expect(top).not.toContain(r.item);
        expect((r.item as number) % 3).not.toBe(0);
      }
      sum += recall(got, e.recommend(u, opts));
      n++;
      // filterSeen: false brings seen items back.
      expect(a.recommend(u, { k: 10, filterSeen: false }).length).toBe(10);
    }
    expect(sum / n).toBeGreaterThanOrEqual(0.9);
  });

  it('falls back to exact when the filters leave few items (short include list, almost everything excluded)', () => {
    const exclude = items.filter((i) => i % 100 !== 7); // 1% eligible: below the graph's threshold
    const include = items.filter((i) => i % 50 === 1); // 120 items: scored directly
    for (const u of users.slice(0, 20)) {
      expect(approx.recommend(u, { k: 10, exclude })).toEqual(exact.recommend(u, { k: 10, exclude }));
      const a = approx.recommend(u, { k: 10, include });
      const e = exact.recommend(u, { k: 10, include });
      expect(a.map((r) => r.item)).toEqual(e.map((r) => r.item));
      expect(approx.recommend(u, { k: 500, include })).toHaveLength(include.length);
    }
    expect(approx.recommend(0, { k: 10, include: [] })).toEqual([]);
  });

  it('recommendBatch searches the index too and matches recommend', () => {
    const batch = approx.recommendBatch(users.slice(0, 30), { k: 10 });
    users.slice(0, 30).forEach((u, r) => expect(batch[r]!.map((x) => x.item)).toEqual(approx.recommend(u, { k: 10 }).map((x) => x.item)));
  });

  it('one thread and a seed give the same graph', () => {
    const b = model('hnsw');
    const sa = approx.nativeModel.state(),
      sb = b.nativeModel.state();
    for (const name of ['ann_config', 'ann_labels', 'ann_levels', 'ann_links0', 'ann_links']) expect(sb[name]!.data).toEqual(sa[name]!.data);
  });

  it('a fitted ALS stores its index in the model file and serves the same answers after load', async () => {
    const ds = synthetic({ users: 300, items: 900, minPerUser: 15, maxPerUser: 35, seed: 4, ratings: false });
    const als = new ImplicitALS({ factors: 16, iterations: 3, threads: 1, ann: 'hnsw', annM: 8, annEfSearch: 40 });
    als.fit(ds);
    expect(als.annIndex).toMatchObject({ M: 8, efSearch: 40 });
    const path = join(dir, 'als.recsys');
    als.save(path);
    const back = loadModel<ImplicitALS>(path);
    expect(back.annIndex).toMatchObject({ M: 8, efSearch: 40, items: 900 });
    const s1 = als.nativeModel.state(),
      s2 = back.nativeModel.state();
    expect(s2.ann_links0!.data).toEqual(s1.ann_links0!.data); // stored, not rebuilt
    for (const u of Array.from({ length: 50 }, (_, j) => ds.users.id(j)))
      expect(back.recommend(u, { k: 10, filterSeen: false })).toEqual(als.recommend(u, { k: 10, filterSeen: false }));
    for (const u of Array.from({ length: 50 }, (_, j) => ds.users.id(j))) expect(back.recommend(u, { k: 10 })).toEqual(als.recommend(u, { k: 10 }));
    // fitAsync builds it off the event loop.
    const asyncFit = await new ImplicitALS({ factors: 16, iterations: 3, threads: 1, ann: 'hnsw', annM: 8 }).fitAsync(ds);
    expect(asyncFit.annIndex).not.toBeNull();
    // Models without the option (exact) carry no index.
    const plain = new ImplicitALS({ factors: 16, iterations: 3, threads: 1 }).fit(ds);
    expect(plain.annIndex).toBeNull();
    expect(Object.keys(plain.nativeModel.state()).some((n) => n.startsWith('ann_'))).toBe(false);
  });

  describe('crafted graph tensors are refused (E_FORMAT), never searched', () => {
    const small = FactorModel.fromFactors({
      users: users.slice(0, 10),
      items: items.slice(0, 400),
      factors: f,
      userFactors: U.subarray(0, 10 * f),
      itemFactors: V.subarray(0, 400 * f),
      annOptions: { ann: 'hnsw', annM: 4 },
      threads: 1,
    });
    const state = small.nativeModel.state();
    const restore = (t: Record<string, NativeTensor>) => addon.restoreModel('FactorModel', { users: 10, items: 400 }, t, small.params);
    const edit = (name: string, change: (d: Int32Array) => void, shape?: number[]) => {
      const t: Record<string, NativeTensor> = {};
      for (const [k, v] of Object.entries(state)) t[k] = { shape: [...v.shape], data: v.data.slice() };
      change(t[name]!.data as Int32Array);
      if (shape) t[name]!.shape = shape;
      return t;
    };
    const m0 = 9; // 2M + 1
    it('restores the untouched state', () => {
      const h = restore(edit('ann_config', () => {}));
      expect(h.annInfo!()).toMatchObject({ M: 4, items: 400 });
    });
    const cases: [string, string, (d: Int32Array) => void][] = [
      ['a neighbour id past the items', 'ann_links0', (d) => ((d[0] = 1), (d[1] = 400))],
      ['a negative neighbour id', 'ann_links0', (d) => ((d[m0] = 2), (d[m0 + 1] = -1))],
      ['a count above 2M', 'ann_links0', (d) => (d[0] = m0)],
      ['labels that are not a permutation', 'ann_labels', (d) => (d[1] = d[0]!)],
      ['a level out of range', 'ann_levels', (d) => (d[3] = 1000)],
      ['an entry point off the top level', 'ann_config', (d) => (d[3] = (d[3]! + 1) % 400)],
      ['an M that does not match the lists', 'ann_config', (d) => (d[0] = 5)],
    ];
    for (const [what, name, change] of cases)
      it(what, () => {
        expect(() => restore(edit(name, change))).toThrow(expect.objectContaining({ code: 'E_FORMAT' }) as Error);
      });
    it('an upper-layer link to a node that is not on that layer', () => {
      const levels = state.ann_levels!.data as Int32Array;
      const low = levels.findIndex((l) => l === 0);
      expect(() =>
        restore(
          edit('ann_links', (d) => {
            d[0] = 1;
            d[1] = low;
          }),
        ),
      ).toThrow(expect.objectContaining({ code: 'E_FORMAT' }) as Error);
    });
    it('in a model file: a tampered link is E_FORMAT at load (checksum off), and the intact file loads', () => {
      const path = join(dir, 'crafted.recsys');
      small.save(path);
      expect(loadModel<FactorModel>(path, { verify: false }).annIndex).not.toBeNull();
      const bytes = readFileSync(path);
      const n = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
      const at = 8 + n + header.ann_links0!.data_offsets[0];
      bytes.writeInt32LE(1, at); // node 0: one neighbour ...
      bytes.writeInt32LE(1 << 30, at + 4); // ... far past the catalogue
      writeFileSync(path, bytes);
      expect(() => loadModel(path, { verify: false })).toThrow(
        expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/ann_links0/) as string }) as Error,
      );
      expect(() => loadModel(path)).toThrow(expect.objectContaining({ code: 'E_FORMAT' }) as Error);
    });
    it('a graph on a model without factors', () => {
      const t = edit('ann_config', () => {});
      delete t.user_factors;
      delete t.item_factors;
      expect(() => restore(t)).toThrow(expect.objectContaining({ code: 'E_FORMAT' }) as Error);
    });
  });
});

// Fold-in (recommendForNewUser) searches the same index with the folded-in vector, so a service answering users
// with fresh events keeps the graph's speed on a million items (issue 15: events while serving).
describe('fold-in through the HNSW index', () => {
  // Explicit least squares on the given ratings: vectors of the size the items' scores need. (An implicit fold-in
  // over these random, untrained item vectors comes out near zero, so its ranking is the item bias alone: a query
  // along the bias axis, which an inner-product graph built on the vectors searches poorly (recall 0.47 here).)
  const fold = { implicit: false, reg: 0.1 };
  const histories = Array.from({ length: 60 }, (_, h) => {
    const r = mulberry32(100 + h);
    return Array.from({ length: 4 + (h % 12) }, () => Math.floor(r() * nI));
  });
  const input = (hist: number[]) => ({ items: hist, ratings: hist.map((_, p) => 1 + (p % 5)) });

  it('recall@10 against exact fold-in is at least 0.95, seen items left out, scores those of the exact fold-in', () => {
    const a = model('hnsw', { foldIn: fold });
    const e = model('exact', { foldIn: fold });
    let sum = 0;
    for (const hist of histories) {
      const got = a.recommendForNewUser(input(hist), { k: 10 });
      const want = e.recommendForNewUser(input(hist), { k: 10 });
      expect(got).toHaveLength(10);
      const exactScore = new Map(e.recommendForNewUser(input(hist), { k: nI }).map((r) => [r.item, r.score]));
      for (const r of got) {
        expect(hist).not.toContain(r.item);
        expect(r.score).toBeCloseTo(exactScore.get(r.item)!, 4);
      }
      for (let j = 1; j < got.length; j++) expect(got[j]!.score).toBeLessThanOrEqual(got[j - 1]!.score);
      sum += recall(got, want);
    }
    expect(sum / histories.length).toBeGreaterThanOrEqual(0.95);
    // Filters act inside the search, as for known users: exactly k, none excluded.
    const exclude = e.recommendForNewUser(input(histories[0]!), { k: 5 }).map((r) => r.item);
    const got = a.recommendForNewUser(input(histories[0]!), { k: 10, exclude });
    expect(got).toHaveLength(10);
    for (const r of got) expect(exclude).not.toContain(r.item);
  });

  it('the search is the index, not a full scoring (a deliberately poor graph misses some of the exact top-10)', () => {
    const poor = model('hnsw', { foldIn: fold, annOptions: { ann: 'hnsw', annM: 2, annEfConstruction: 2, annEfSearch: 1, seed: 5 } });
    const e = model('exact', { foldIn: fold });
    let sum = 0;
    for (const hist of histories) sum += recall(poor.recommendForNewUser(input(hist), { k: 10 }), e.recommendForNewUser(input(hist), { k: 10 }));
    expect(sum / histories.length).toBeLessThan(0.99);
  });

  // Every factor family's fold-in goes through the same vector: with an index that finds everything on a small
  // catalogue, the answers equal the exact path's (same seed and threads, so the same factors).
  const ds = synthetic({ users: 200, items: 700, minPerUser: 10, maxPerUser: 30, seed: 9, ratings: true });
  const annOn = { ann: 'hnsw', annEfSearch: 400 } as const;
  const families: [string, (ann: object) => FactorRecommender, boolean][] = [
    ['ImplicitALS', (o) => new ImplicitALS({ factors: 8, iterations: 3, threads: 1, ...o }), false],
    ['BPR', (o) => new BPR({ factors: 8, epochs: 3, threads: 1, ...o }), false],
    ['PureSVD', (o) => new PureSVD({ factors: 8, threads: 1, ...o }), false],
    ['LightGCN', (o) => new LightGCN({ factors: 8, epochs: 2, threads: 1, ...o }), false],
    ['BiasedMF', (o) => new BiasedMF({ factors: 8, epochs: 3, threads: 1, ...o }), true],
    ['SVDpp', (o) => new SVDpp({ factors: 8, epochs: 2, ...o }), true],
    ['ExplicitALS', (o) => new ExplicitALS({ factors: 8, epochs: 3, threads: 1, ...o }), true],
    ['NMF', (o) => new NMF({ factors: 8, epochs: 5, threads: 1, ...o }), true],
  ];
  for (const [name, make, rated] of families)
    it(`${name}: fold-in through the index equals the exact fold-in`, () => {
      const a = make(annOn).fit(ds);
      const e = make({ ann: 'exact' }).fit(ds);
      expect(a.annIndex).not.toBeNull();
      const r = mulberry32(3);
      for (let t = 0; t < 10; t++) {
        const hist = Array.from({ length: 5 + t }, () => `i${Math.floor(r() * 700)}`);
        const input = rated ? { items: hist, ratings: hist.map((_, p) => 1 + (p % 5)) } : { items: hist };
        const got = a.recommendForNewUser(input, { k: 10 });
        const want = e.recommendForNewUser(input, { k: 10 });
        expect(got.map((x) => x.item)).toEqual(want.map((x) => x.item));
        got.forEach((x, j) => expect(x.score).toBeCloseTo(want[j]!.score, 4));
      }
    });
});

// Factors in well-separated clusters (ALS on distinct taste groups) cut the inner-product graph into pieces its one
// descent cannot leave; annLandmarks adds a search from the best eligible landmark (the longest vectors).
describe('annLandmarks', () => {
  const data = plantedDataset({ users: 3000, items: 20000, groups: 32, perUser: 30, seed: 7 });
  const fit = (annLandmarks: boolean) => new ImplicitALS({ factors: 32, iterations: 3, threads: 1, seed: 1, ann: 'hnsw', annLandmarks }).fit(data);
  const off = fit(false);
  const on = fit(true);
  const exact = FactorModel.fromFactors({
    users: on.trainData.users,
    items: on.trainData.items,
    factors: 32,
    userFactors: on.userFactors!,
    itemFactors: on.itemFactors!,
    seen: on.trainData,
    annOptions: { ann: 'exact' },
  });
  const sample = Array.from({ length: 200 }, (_, j) => data.users.id(j * 15));
  const recallOf = (m: ImplicitALS) => sample.reduce<number>((a, u) => a + recall(m.recommend(u, { k: 10 }), exact.recommend(u, { k: 10 })), 0) / sample.length;

  it('finds what the graph alone misses on clustered factors, with exact scores and seen items left out', () => {
    expect(off.annIndex).toMatchObject({ landmarks: false });
    expect(on.annIndex).toMatchObject({ landmarks: true });
    const rOff = recallOf(off);
    const rOn = recallOf(on);
    expect(rOff).toBeLessThan(0.9); // the failure this option is for (0.77 measured)
    expect(rOn).toBeGreaterThanOrEqual(0.95); // 0.99 measured
    for (const u of sample.slice(0, 20)) {
      const row = on.trainData.users.index(u);
      const { indptr, indices } = on.trainData.csr;
      const seen = new Set(indices.subarray(indptr[row], indptr[row + 1]));
      for (const r of on.recommend(u, { k: 10 })) {
        expect(seen.has(on.trainData.items.index(r.item))).toBe(false);
        expect(r.score).toBeCloseTo(exact.predict(u, r.item), 4);
      }
    }
  });

  it('is a serving setting: the same graph, switched by the options after load', () => {
    const file = join(dir, 'landmarks.recsys');
    off.save(file);
    const loaded = loadModel<ImplicitALS>(file);
    expect(loaded.annIndex).toMatchObject({ landmarks: false });
    loaded.nativeModel.setAnnSearch!(100, true);
    expect(loaded.annIndex).toMatchObject({ landmarks: true });
    expect(recallOf(loaded)).toBeGreaterThanOrEqual(0.95);
    expect(() => loaded.nativeModel.setAnnSearch!(100, 'yes' as unknown as boolean)).toThrow(expect.objectContaining({ code: 'E_ARG' }) as Error);
  });
});
