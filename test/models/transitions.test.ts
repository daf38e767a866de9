import { afterAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../ts/data/dataset.js';
import { evaluateSequential, sequentialSplit } from '../../ts/eval/sequential.js';
import { loadModel } from '../../ts/io/load.js';
import { Popularity } from '../../ts/models/baseline.js';
import { ItemTransitions, type ItemTransitionsParams } from '../../ts/models/transitions.js';
import { Rng } from '../../ts/rng.js';
import { code } from '../helpers/rejection.js';
import { tempDir } from '../io/helpers.js';

/** Random time-ordered sessions with structure: item i is usually followed by (i + 1) or (i + 7) mod n. */
function sessions(nUsers: number, nItems: number, seed: number): { ds: Dataset; seqs: number[][] } {
  const rng = new Rng(seed);
  const users: number[] = [];
  const items: number[] = [];
  const times: number[] = [];
  const seqs: number[][] = [];
  for (let u = 0; u < nUsers; u++) {
    const len = 3 + rng.below(12);
    const seen = new Set<number>();
    let i = rng.below(nItems);
    const seq: number[] = [];
    for (let t = 0; seq.length < len && t < 100; t++) {
      if (!seen.has(i)) {
        seen.add(i);
        seq.push(i);
      }
      const r = rng.below(10);
      i = r < 5 ? (i + 1) % nItems : r < 8 ? (i + 7) % nItems : rng.below(nItems);
    }
    seqs.push(seq);
    // Shuffled insertion order: the model must sort by time.
    const order = seq.map((_, j) => j).sort(() => rng.below(3) - 1);
    for (const j of order) {
      users.push(u);
      items.push(seq[j]!);
      times.push(1000 * u + j);
    }
  }
  return { ds: Dataset.fromArrays({ users, items, timestamps: times }), seqs };
}

/** The plain reference: nested maps of weighted counts, normalised per source, mixed over the history. */
function reference(seqs: number[][], nItems: number, p: Required<Omit<ItemTransitionsParams, 'threads' | 'seed' | 'maxMemoryBytes'>>) {
  const counts = new Map<number, Map<number, number>>();
  const pop = new Array<number>(nItems).fill(0);
  let total = 0;
  for (const s of seqs) {
    for (const i of s) pop[i] = pop[i]! + 1;
    total += s.length;
    for (let j = 0; j < s.length; j++)
      for (let d = 1; d <= p.window && j + d < s.length; d++) {
        const row = counts.get(s[j]!) ?? new Map<number, number>();
        row.set(s[j + d]!, (row.get(s[j + d]!) ?? 0) + p.windowDecay ** (d - 1));
        counts.set(s[j]!, row);
      }
  }
  return (history: number[]) => {
    const out = pop.map((c) => p.popularityWeight * (c / total));
    const last = history.slice(-p.historyLength).reverse();
    last.forEach((a, j) => {
      const row = counts.get(a);
      if (!row) return;
      const sum = [...row.values()].reduce((x, y) => x + y, 0);
      for (const [b, c] of row) out[b]! += p.historyDecay ** j * (c / sum);
    });
    return out;
  };
}

const dir = tempDir('transitions-');
afterAll(() => dir.remove());

describe('ItemTransitions', () => {
  const nItems = 40;
  const { ds, seqs } = sessions(120, nItems, 3);
  const ids = (xs: number[]) => xs.map((i) => ds.itemIndex(i));

  for (const p of [
    { historyLength: 3, historyDecay: 0.5, window: 1, windowDecay: 0.5, popularityWeight: 0.1 },
    { historyLength: 1, historyDecay: 1, window: 3, windowDecay: 0.3, popularityWeight: 0 },
    { historyLength: 5, historyDecay: 0.8, window: 2, windowDecay: 1, popularityWeight: 2 },
  ]) {
    it(`scores match the plain reference (${JSON.stringify(p)})`, () => {
      const m = new ItemTransitions(p).fit(ds);
      const ref = reference(seqs, nItems, p);
      // Known users score from their last training items; the reference works on external ids (= item values).
      for (const u of [0, 5, 77, 119]) {
        const got = m.scoreUsersDense(Int32Array.of(ds.userIndex(u)));
        const want = ref(seqs[u]!);
        for (let i = 0; i < nItems; i++) expect(got[ds.itemIndex(i)]).toBeCloseTo(want[i]!, 5);
      }
      // A history passed at request time, in its own order.
      const h = [3, 9, 4];
      const got = m.scoreHistory(ids(h));
      const want = ref(h);
      for (let i = 0; i < nItems; i++) expect(got[ds.itemIndex(i)]).toBeCloseTo(want[i]!, 5);
      const recs = m.recommendForNewUser({ items: h }, { k: 5 });
      const order = want
        .map((s, i) => ({ i, s }))
        .filter((x) => !h.includes(x.i))
        .sort((a, b) => b.s - a.s);
      expect(recs[0]!.item).toBe(order[0]!.i);
      expect(recs[0]!.score).toBeCloseTo(order[0]!.s, 5);
    });
  }

  it('learns the structure: after item i, i + 1 ranks first; the order of the history matters', () => {
    const m = new ItemTransitions({ popularityWeight: 0 }).fit(ds);
    expect(m.recommendForNewUser({ items: [10] }, { k: 1 })[0]!.item).toBe(11);
    expect(m.recommendForNewUser({ items: [20, 30] }, { k: 1 })[0]!.item).toBe(31);
    expect(m.recommendForNewUser({ items: [30, 20] }, { k: 1 })[0]!.item).toBe(21);
    expect(m.similarItems(5, 1)[0]!.item).toBe(6);
    expect(code(() => m.similarUsers(0))).toBe('E_UNSUPPORTED');
  });

  it('beats popularity on the sequential protocol, and its recommend agrees with scoreUsersDense', () => {
    const split = sequentialSplit(ds);
    const m = new ItemTransitions().fit(split.trainValid);
    const r = evaluateSequential(m, split.test, ds.nItems, { sequences: split.sequences });
    const pop = evaluateSequential(new Popularity().fit(split.trainValid), split.test, ds.nItems, { sequences: split.sequences });
    expect(r['hr@10']).toBeGreaterThan(0.5);
    expect(r['ndcg@10']).toBeGreaterThan(pop['ndcg@10']! + 0.2);
    const u = split.test.users[0]!;
    const rec = m.recommend(ds.users.id(u), { k: 3 });
    const batch = m.recommendBatch([ds.users.id(u)], { k: 3 })[0]!;
    expect(batch).toEqual(rec);
  });

  it('saves and loads (same recommendations), fits async, and is deterministic', async () => {
    const m = new ItemTransitions({ historyLength: 4 }).fit(ds);
    m.save(dir.path('t.recsys'));
    const back = loadModel(dir.path('t.recsys'));
    for (const u of [1, 2, 3]) expect(back.recommend(u, { k: 5 })).toEqual(m.recommend(u, { k: 5 }));
    expect(back.recommendForNewUser({ items: [1, 2] })).toEqual(m.recommendForNewUser({ items: [1, 2] }));
    const a = await new ItemTransitions({ historyLength: 4 }).fitAsync(ds);
    expect(a.scoreUsersDense(Int32Array.of(0, 1))).toEqual(m.scoreUsersDense(Int32Array.of(0, 1)));
    expect(code(() => new ItemTransitions({ historyLength: 0 }))).toBe('E_ARG');
    expect(code(() => new ItemTransitions({ historyDecay: 2 }))).toBe('E_ARG');
  });
  it('refuses a matrix written to through csr (as the native fits do), sync and async, instead of walking it', async () => {
    const bad = sessions(30, 40, 11).ds;
    const csr = bad.csr;
    csr.indptr[3] = 268_435_456; // what the csr fuzz target did: the fit walked 2^28 entries (a hang)
    expect(code(() => new ItemTransitions().fit(bad))).toBe('E_ARG');
    await expect(new ItemTransitions().fitAsync(bad)).rejects.toMatchObject({ code: 'E_ARG' });
  });
});
