import { describe, expect, it } from 'vitest';
import { Dataset, ItemKNN } from '../../ts/index.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';
import { scaledRatings } from '../helpers/synthetic.js';

// Plain reference of implicit's weightings on the items x users matrix, then all pairwise dot products.
function referenceSimilarity(ds: Dataset, kind: 'cosine' | 'tfidf' | 'bm25', binary: boolean, K1 = 1.2, B = 0.75): Float64Array {
  const nI = ds.nItems,
    nU = ds.nUsers;
  const X = new Float64Array(nI * nU);
  const { indptr, indices, data } = ds.csr;
  for (let u = 0; u < nU; u++) for (let p = indptr[u]!; p < indptr[u + 1]!; p++) X[indices[p]! * nU + u] = binary || !data ? 1 : data[p]!;
  const userCount = Array.from({ length: nU }, (_, u) => indptr[u + 1]! - indptr[u]!);
  const idf = userCount.map((c) => Math.log(nI / (1 + c)));
  const W = new Float64Array(nI * nU);
  if (kind === 'bm25') {
    const rowSums = Array.from({ length: nI }, (_, i) => X.subarray(i * nU, (i + 1) * nU).reduce((a, b) => a + b, 0));
    const avg = rowSums.reduce((a, b) => a + b, 0) / nI;
    for (let i = 0; i < nI; i++)
      for (let u = 0; u < nU; u++) {
        const x = X[i * nU + u]!;
        if (x === 0) continue;
        W[i * nU + u] = ((x * (K1 + 1)) / (K1 * (1 - B + (B * rowSums[i]!) / avg) + x)) * idf[u]!;
      }
  } else {
    for (let i = 0; i < nI; i++) {
      let norm = 0;
      for (let u = 0; u < nU; u++) {
        const x = X[i * nU + u]!;
        const w = x === 0 ? 0 : kind === 'tfidf' ? Math.sqrt(x) * idf[u]! : x;
        W[i * nU + u] = w;
        norm += w * w;
      }
      if (norm > 0) for (let u = 0; u < nU; u++) W[i * nU + u]! /= Math.sqrt(norm);
    }
  }
  const S = new Float64Array(nI * nI);
  for (let i = 0; i < nI; i++)
    for (let j = 0; j < nI; j++) {
      let s = 0;
      for (let u = 0; u < nU; u++) s += W[i * nU + u]! * W[j * nU + u]!;
      S[i * nI + j] = s;
    }
  return S;
}

describe('ItemKNN', () => {
  const rnd = mulberry32(44);
  const { users, items, ratings } = randomInteractions(60, 40, 9, rnd);
  const ds = Dataset.fromArrays({ users, items, ratings });

  it.each([
    ['cosine', false],
    ['cosine', true],
    ['tfidf', false],
    ['bm25', false],
    ['bm25', true],
  ] as const)('%s (binary %s): neighbour lists and scores match a dense reference', (similarity, binary) => {
    const k = 7;
    const m = new ItemKNN({ similarity, k, binary, threads: 2 }).fit(ds);
    const S = referenceSimilarity(ds, similarity, binary);
    const n = ds.nItems;
    const st = m.nativeModel.state();
    const ptr = st.neighbor_indptr!.data,
      nb = st.neighbor_items!.data,
      sims = st.neighbor_scores!.data;
    // the reference's top-k others of each item (touched = sharing a user; a similarity of exactly 0 is not kept)
    const kept = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const touched = new Set<number>();
      for (const u of ds.itemUsers(i)) for (const j of ds.userItems(u)) if (j !== i && S[i * n + j] !== 0) touched.add(j);
      const top = [...touched].sort((a, b) => S[i * n + b]! - S[i * n + a]! || a - b).slice(0, k);
      expect(ptr[i + 1]! - ptr[i]!).toBe(top.length);
      const got = new Map<number, number>();
      for (let q = ptr[i]!; q < ptr[i + 1]!; q++) got.set(nb[q]!, sims[q]!);
      // compare as sets of similarity values (ties at the k-th place may pick different items)
      const want = top.map((j) => S[i * n + j]!).sort((a, b) => b - a);
      const have = [...got.values()].sort((a, b) => b - a);
      have.forEach((v, t) => expect(v).toBeCloseTo(want[t]!, 5));
      for (const [j, v] of got) {
        expect(v).toBeCloseTo(S[i * n + j]!, 5);
        kept[i * n + j] = v;
      }
    }
    // scores: the user's values times the kept similarities
    for (const u of [0, 13, 59]) {
      const scores = m.scoreUsersDense(Int32Array.of(u));
      for (let j = 0; j < n; j++) {
        let s = 0;
        const its = ds.userItems(u),
          vals = ds.userValues(u)!;
        its.forEach((i, p) => (s += (binary ? 1 : vals[p]!) * kept[i * n + j]!));
        expect(scores[j]).toBeCloseTo(s, 4);
        expect(m.predict(ds.users.id(u), ds.items.id(j))).toBeCloseTo(s, 4);
      }
    }
  });

  it('the dense-accumulator and first-touch paths agree: a large catalogue where most items are rare', () => {
    // 300 items; items 0..9 are in every user's row (their work reaches a quarter of the catalogue: scanned),
    // the others are rare (first-touch bookkeeping). Both paths must give the dense reference's neighbours.
    const r = mulberry32(5);
    const us: number[] = [],
      is: number[] = [];
    for (let u = 0; u < 30; u++) {
      const row = new Set<number>(Array.from({ length: 10 }, (_, j) => j));
      while (row.size < 14) row.add(10 + Math.floor(r() * 290));
      for (const i of row) {
        us.push(u);
        is.push(i);
      }
    }
    const big = Dataset.fromArrays({ users: us, items: is });
    const m = new ItemKNN({ similarity: 'tfidf', k: 400, threads: 2 }).fit(big);
    const S = referenceSimilarity(big, 'tfidf', true);
    const n = big.nItems;
    const st = m.nativeModel.state();
    const ptr = st.neighbor_indptr!.data,
      nb = st.neighbor_items!.data,
      sims = st.neighbor_scores!.data;
    for (let i = 0; i < n; i++) {
      const want = new Set<number>();
      for (const u of big.itemUsers(i)) for (const j of big.userItems(u)) if (j !== i && S[i * n + j] !== 0) want.add(j);
      expect(ptr[i + 1]! - ptr[i]!).toBe(want.size);
      for (let q = ptr[i]!; q < ptr[i + 1]!; q++) {
        expect(want.has(nb[q]!)).toBe(true);
        expect(sims[q]).toBeCloseTo(S[i * n + nb[q]!]!, 5);
      }
    }
  });

  it('keeps no neighbour of similarity exactly 0 (a user with idf 0 links items without similarity)', () => {
    // 4 items; user a has 3 = items - 1 of them, so idf(a) = log(4 / 4) = 0: item 2, seen by a alone, has
    // similarity 0 to items 0 and 1 and no neighbours at all.
    const z = Dataset.fromArrays({ users: ['a', 'a', 'a', 'b', 'c', 'c'], items: [0, 1, 2, 3, 0, 1] });
    const m = new ItemKNN({ similarity: 'tfidf', k: 5 }).fit(z);
    expect(m.similarItems(2, 5)).toEqual([]);
    expect(m.similarItems(0, 5).map((x) => x.item)).toEqual([1]);
  });

  it('similarItems returns at most k neighbours, best first', () => {
    const m = new ItemKNN({ k: 5 }).fit(ds);
    const sims = m.similarItems(ds.items.id(0), 50);
    expect(sims.length).toBeLessThanOrEqual(5);
    for (let t = 1; t < sims.length; t++) expect(sims[t - 1]!.score).toBeGreaterThanOrEqual(sims[t]!.score);
  });

  it('a fit whose scores would overflow the float range says so instead of answering Infinity (a model that saves must load)', () => {
    // Each user rates 4 items at 1e38: cosine similarities stay <= 1, but a user's score sums 4e38 > FLT_MAX.
    const ds = scaledRatings(() => 1e38);
    expect(() => new ItemKNN({ threads: 1 }).fit(ds)).toThrow(/ItemKNN diverged \(ratings and similarities so large that scores overflow/);
    // The same data at 1e37 fits, and its scores are finite.
    const recs = new ItemKNN({ threads: 1 }).fit(scaledRatings(() => 1e37)).recommend(0, { k: 3 });
    expect(recs.length).toBeGreaterThan(0);
    for (const r of recs) expect(Number.isFinite(r.score)).toBe(true);
  });
});
