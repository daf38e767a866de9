// The HNSW index across ImplicitALS.partialFit (issue 15 part 4): the new model carries the old graph, updated for
// the re-solved items and extended by the new ones (AnnIndex::extend), instead of losing it until a refit. Checked
// against exact top-K over the same vectors, on the old model (never mutated), through a model file, and for the
// cases where a graph cannot be carried (a fresh build then).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Dataset,
  FactorModel,
  IdMap,
  ImplicitALS,
  Recommender,
  createRecommender,
  loadModel,
  plantedDataset,
  type Id,
  type Recommendation,
} from '../../ts/index.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-ann-partial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A catalogue of 3000 items in 6 taste groups. The model first sees it without every 15th item (200 new items,
// spread over the groups) and with half the interactions of every 50th item (60 items whose vectors partialFit
// re-solves); partialFit then gets the whole data.
const full = plantedDataset({ users: 1500, items: 3000, perUser: 30, seed: 9 });
const isNew = (i: number) => i % 15 === 7;
const isChanged = (i: number) => i % 50 === 3;
const nOld = 3000 - 200;

/** The interactions of `full` that the first fit sees, over `items` (old ids in the order given). */
function oldData(items: IdMap): Dataset {
  const { rows, cols, values } = full.toCoo();
  const keep = Array.from(cols, (i, p) => !isNew(i) && !(isChanged(i) && rows[p]! % 2 === 0));
  return Dataset.fromCoo(
    full.users,
    items,
    rows.filter((_, p) => keep[p]),
    Int32Array.from(
      cols.filter((_, p) => keep[p]),
      (i) => items.index(full.items.id(i)),
    ),
    values!.filter((_, p) => keep[p]),
  );
}
const oldItems = new IdMap(full.items.ids.filter((_, i) => !isNew(i)));
const before = oldData(oldItems);
// The live layer's shape: known items keep their indices, new ones are appended.
const appendedItems = new IdMap([...oldItems.ids, ...full.items.ids.filter((_, i) => isNew(i))]);
const after = (() => {
  const { rows, cols, values } = full.toCoo();
  return Dataset.fromCoo(
    full.users,
    appendedItems,
    rows,
    Int32Array.from(cols, (i) => appendedItems.index(full.items.id(i))),
    values,
  );
})();
const changedItems = full.items.ids.filter((_, i) => isChanged(i));
const changedUsers = full.users.ids.filter((_, u) => u % 2 === 0);
const newIds = new Set(full.items.ids.filter((_, i) => isNew(i)));
const changedIds = new Set(changedItems);
const users = full.users.ids;
const params = { factors: 16, iterations: 4, threads: 1, seed: 3, ann: 'hnsw', annM: 16, annEfConstruction: 100, annEfSearch: 100 } as const;

const base = new ImplicitALS(params).fit(before);

/** A second recommender over `m`'s native model, as the live layer makes one before a partial refit. */
function successor(m: ImplicitALS, p: ConstructorParameters<typeof ImplicitALS>[0] = m.params): ImplicitALS {
  const next = new ImplicitALS(p);
  Recommender.attachState(next, m.nativeModel, m.trainData);
  return next;
}

const annNames = ['ann_config', 'ann_labels', 'ann_levels', 'ann_links0', 'ann_links'];
function graph(m: ImplicitALS): unknown[] {
  const s = m.nativeModel.state();
  return annNames.map((n) => Array.from(s[n]!.data));
}

/** Exact top-K over the model's own vectors and seen items. */
function exactOf(m: ImplicitALS): FactorModel {
  return FactorModel.fromFactors({
    users: m.trainData.users,
    items: m.trainData.items,
    factors: 16,
    userFactors: m.userFactors!,
    itemFactors: m.itemFactors!,
    seen: m.trainData,
    annOptions: { ann: 'exact' },
  });
}

function recall(got: Recommendation[], want: Recommendation[]): number {
  const w = new Set(want.map((r) => r.item));
  return got.filter((r) => w.has(r.item)).length / want.length;
}

/**
 * Recall@10 of m's index against exact over every user, and how the items of `watch` fare: of the users whose
 * exact top item is one of them, how many get it in their approximate top 10.
 */
function quality(m: ImplicitALS, watch: Set<Id>): { recall: number; watched: number; found: number } {
  const exact = exactOf(m);
  let sum = 0,
    watched = 0,
    found = 0;
  for (const u of users) {
    const a = m.recommend(u, { k: 10 });
    const e = exact.recommend(u, { k: 10 });
    expect(a).toHaveLength(10);
    a.forEach((r) => expect(r.score).toBeCloseTo(exact.predict(u, r.item), 4));
    sum += recall(a, e);
    if (watch.has(e[0]!.item)) {
      watched++;
      if (a.some((r) => r.item === e[0]!.item)) found++;
    }
  }
  return { recall: sum / users.length, watched, found };
}

describe('the HNSW index across ImplicitALS.partialFit', () => {
  const baseAnswers = users.slice(0, 200).map((u) => base.recommend(u, { k: 10 }));
  const baseGraph = graph(base);
  const next = successor(base).partialFit(after, { users: changedUsers, items: changedItems });

  it('the partial-fitted model has an index over the new catalogue, carried over from the old graph', () => {
    expect(base.annIndex).toMatchObject({ items: nOld, M: 16 });
    expect(next.annIndex).toMatchObject({ items: 3000, M: 16, efConstruction: 100, efSearch: 100 });
    // Carried, not rebuilt: an old graph of another degree than the options' (built by hand) keeps its degree.
    const h = new ImplicitALS(params).fit(before);
    h.nativeModel.buildAnn!({ M: 6, efConstruction: 40, efSearch: 64, seed: 1, threads: 1 });
    const carried = successor(h).partialFit(after, { users: changedUsers, items: changedItems });
    expect(carried.annIndex).toMatchObject({ items: 3000, M: 6, efConstruction: 40 });
  });

  it('recall@10 against exact over the same vectors is at least 0.9; new and re-solved items are found', () => {
    const q = quality(next, newIds);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.watched).toBeGreaterThanOrEqual(20);
    expect(q.found).toBe(q.watched);
    const c = quality(next, changedIds);
    expect(c.watched).toBeGreaterThanOrEqual(5);
    expect(c.found).toBe(c.watched);
  });

  it('the old model is not touched: the same graph and the same answers', () => {
    expect(graph(base)).toEqual(baseGraph);
    users.slice(0, 200).forEach((u, j) => expect(base.recommend(u, { k: 10 })).toEqual(baseAnswers[j]));
  });

  it('partialFitAsync builds the same graph on the worker while the old model keeps answering the same', async () => {
    const pending = successor(base).partialFitAsync(after, { users: changedUsers, items: changedItems });
    // Searches of the old graph while the worker copies it.
    users.slice(0, 200).forEach((u, j) => expect(base.recommend(u, { k: 10 })).toEqual(baseAnswers[j]));
    const done = await pending;
    expect(graph(done)).toEqual(graph(next));
    expect(graph(base)).toEqual(baseGraph);
  });

  it('one thread and a seed give the same graph, from the model in memory and from its file', () => {
    const again = successor(base).partialFit(after, { users: changedUsers, items: changedItems });
    expect(graph(again)).toEqual(graph(next));
    const path = join(dir, 'base.recsys');
    base.save(path);
    const loaded = loadModel<ImplicitALS>(path);
    expect(graph(loaded)).toEqual(baseGraph);
    const fromFile = successor(loaded).partialFit(after, { users: changedUsers, items: changedItems });
    expect(graph(fromFile)).toEqual(graph(next));
  });

  it('the partial-fitted model saves and loads with its updated index', () => {
    const path = join(dir, 'next.recsys');
    next.save(path);
    const back = loadModel<ImplicitALS>(path);
    expect(back.annIndex).toMatchObject({ items: 3000, M: 16, efSearch: 100 });
    expect(graph(back)).toEqual(graph(next));
    for (const u of users.slice(0, 100)) expect(back.recommend(u, { k: 10 })).toEqual(next.recommend(u, { k: 10 }));
  });

  it('new items anywhere in the id order (not appended) keep recall: the graph is relabelled', () => {
    // `full` orders the items by id, so the new items sit between the old ones.
    const m = successor(base).partialFit(full, { users: changedUsers, items: changedItems });
    expect(m.annIndex).toMatchObject({ items: 3000, M: 16 });
    const q = quality(m, newIds);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.found).toBe(q.watched);
  });

  it('without an old index: built when the new size crosses annThreshold (also async); exact drops it', async () => {
    const auto = { ...params, ann: 'auto', annThreshold: 3000 } as const;
    const small = new ImplicitALS(auto).fit(before);
    expect(small.annIndex).toBeNull();
    expect(successor(small).partialFit(after).annIndex).toMatchObject({ items: 3000, M: 16 });
    expect((await successor(small).partialFitAsync(after)).annIndex).toMatchObject({ items: 3000, M: 16 });
    expect(small.annIndex).toBeNull();
    // Below the threshold nothing is built; 'exact' never carries one.
    expect(successor(small, { ...auto, annThreshold: 3001 }).partialFit(after).annIndex).toBeNull();
    const exact = new ImplicitALS({ ...params, ann: 'exact' }).fit(before);
    exact.nativeModel.buildAnn!({ M: 8, efConstruction: 40, efSearch: 64, seed: 1, threads: 1 });
    expect(exact.partialFit(after).annIndex).toBeNull();
  });

  it("the live layer's newItems: 'partialFit' step serves the carried index", async () => {
    // A stored graph of degree 6 (the options say 16): after the step the served model still has degree 6, so the
    // graph was carried, not rebuilt from the options.
    const h = new ImplicitALS(params).fit(before);
    h.nativeModel.buildAnn!({ M: 6, efConstruction: 40, efSearch: 100, seed: 1, threads: 1 });
    const file = join(dir, 'live.recsys');
    h.save(file);
    const quiet = { info() {}, warn() {}, error() {} };
    const s = createRecommender({
      model: file,
      watch: false,
      eventLoopMetrics: false,
      logger: quiet,
      events: { dir: join(dir, 'events'), newItems: 'partialFit', newItemsDelayMs: 30 },
    });
    try {
      expect((s.model as ImplicitALS).annIndex).toMatchObject({ items: nOld, M: 6 });
      const events = [];
      for (let u = 0; u < 300; u += 3) events.push({ user: users[u]!, item: 'brand-new', value: 5 }, { user: users[u + 1]!, item: 'newer', value: 5 });
      expect((await s.ingest(events)).unknownItems).toBe(events.length);
      const deadline = Date.now() + 20_000;
      while (s.status().events!.newItems.runs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const m = s.model as ImplicitALS;
      expect(m.trainData.nItems).toBe(nOld + 2);
      expect(m.annIndex).toMatchObject({ items: nOld + 2, M: 6, efSearch: 100 });
      // The new items are nodes of the served graph: users whose exact top item is one of them get it.
      const q = quality(m, new Set(['brand-new', 'newer']));
      expect(q.watched).toBeGreaterThan(0);
      expect(q.found).toBe(q.watched);
    } finally {
      s.close();
    }
  });

  it('an old item missing from the new data: the graph cannot be carried, a fresh one is built', () => {
    const ids = appendedItems.ids.filter((id) => id !== oldItems.id(5));
    const items = new IdMap(ids);
    const { rows, cols, values } = after.toCoo();
    const keep = Array.from(cols, (i) => i !== 5);
    const data = Dataset.fromCoo(
      after.users,
      items,
      rows.filter((_, p) => keep[p]),
      Int32Array.from(
        cols.filter((_, p) => keep[p]),
        (i) => items.index(appendedItems.id(i)),
      ),
      values!.filter((_, p) => keep[p]),
    );
    const m = successor(base).partialFit(data);
    expect(m.annIndex).toMatchObject({ items: 2999, M: 16 });
    expect(quality(m, newIds).recall).toBeGreaterThanOrEqual(0.9);
  });
});
