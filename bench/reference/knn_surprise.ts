// Plain-TypeScript reference of Surprise's neighbourhood models as Surprise writes them: a dense similarity
// matrix over all pairs, and for each prediction heapq.nlargest(k) over every neighbour who rated the target
// (stable: among equal similarities the earlier in the rater list, i.e. the smaller index, wins). The native
// models keep sparse top-neighbour lists instead; on small data both must agree.
import type { RatingsCsr } from './sgd_mf.js';

export type SurpriseSimilarity = 'msd' | 'cosine' | 'pearson' | 'pearson_baseline';

export interface SurpriseKnnOptions {
  mode: 'basic' | 'means' | 'baseline';
  similarity: SurpriseSimilarity;
  userBased: boolean;
  k: number;
  minK: number;
  shrinkage: number;
  minSupport: number;
  /** Baselines (needed for 'baseline' mode and pearson_baseline); Surprise's ALS baselines. */
  bu?: ArrayLike<number>;
  bi?: ArrayLike<number>;
  mu: number;
}

/** Dense similarity matrix of the x side (rows of X) over the y side (rows of Y = X transposed). */
export function surpriseSimilarities(X: RatingsCsr, Y: RatingsCsr, o: SurpriseKnnOptions, bx?: ArrayLike<number>, by?: ArrayLike<number>): Float64Array {
  const n = X.rows;
  const freq = new Float64Array(n * n);
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * n);
  const c = new Float64Array(n * n);
  const d = new Float64Array(n * n);
  const e = new Float64Array(n * n);
  for (let y = 0; y < Y.rows; y++) {
    for (let p = Y.indptr[y]!; p < Y.indptr[y + 1]!; p++) {
      const xi = Y.indices[p]!;
      const ri = Y.data![p]!;
      for (let q = Y.indptr[y]!; q < Y.indptr[y + 1]!; q++) {
        const xj = Y.indices[q]!;
        const rj = Y.data![q]!;
        const t = xi * n + xj;
        freq[t]!++;
        if (o.similarity === 'msd') a[t]! += (ri - rj) ** 2;
        else if (o.similarity === 'pearson_baseline') {
          const di = ri - (o.mu + bx![xi]! + by![y]!);
          const dj = rj - (o.mu + bx![xj]! + by![y]!);
          a[t]! += di * dj;
          b[t]! += di * di;
          c[t]! += dj * dj;
        } else {
          a[t]! += ri * rj;
          b[t]! += ri * ri;
          c[t]! += rj * rj;
          d[t]! += ri;
          e[t]! += rj;
        }
      }
    }
  }
  const sim = new Float64Array(n * n);
  for (let xi = 0; xi < n; xi++) {
    for (let xj = 0; xj < n; xj++) {
      const t = xi * n + xj;
      if (xi === xj) {
        sim[t] = 1;
        continue;
      }
      const f = freq[t]!;
      if (f < o.minSupport || f === 0) continue;
      let s = 0;
      if (o.similarity === 'msd') s = 1 / (a[t]! / f + 1);
      else if (o.similarity === 'cosine') {
        const den = Math.sqrt(b[t]! * c[t]!);
        s = den === 0 ? 0 : a[t]! / den;
      } else if (o.similarity === 'pearson') {
        const den = Math.sqrt((f * b[t]! - d[t]! ** 2) * (f * c[t]! - e[t]! ** 2));
        s = den === 0 ? 0 : (f * a[t]! - d[t]! * e[t]!) / den;
      } else {
        const den = Math.sqrt(b[t]! * c[t]!);
        s = den === 0 ? 0 : a[t]! / den;
        s *= (f - 1) / (f - 1 + o.shrinkage);
      }
      sim[t] = s;
    }
  }
  return sim;
}

/**
 * Surprise's estimate for (u, i), both known in training, unclipped; NaN where Surprise raises
 * PredictionImpossible (KNNBasic without usable neighbours).
 */
export function surpriseKnnEstimate(R: RatingsCsr, C: RatingsCsr, sim: Float64Array, o: SurpriseKnnOptions, u: number, i: number): number {
  const [x, y, X, Y] = o.userBased ? [u, i, R, C] : [i, u, C, R];
  const n = X.rows;
  const bx = o.userBased ? o.bu : o.bi;
  const by = o.userBased ? o.bi : o.bu;
  const mean = (m: RatingsCsr, r: number) => {
    let s = 0;
    for (let q = m.indptr[r]!; q < m.indptr[r + 1]!; q++) s += m.data![q]!;
    return s / (m.indptr[r + 1]! - m.indptr[r]!);
  };
  const nbs: { x2: number; s: number; r: number }[] = [];
  for (let q = Y.indptr[y]!; q < Y.indptr[y + 1]!; q++) nbs.push({ x2: Y.indices[q]!, s: sim[x * n + Y.indices[q]!]!, r: Y.data![q]! });
  // heapq.nlargest is stable: a stable sort by descending similarity, first k.
  const top = nbs
    .map((v, idx) => ({ v, idx }))
    .sort((p, q) => q.v.s - p.v.s || p.idx - q.idx)
    .slice(0, o.k)
    .map((p) => p.v);
  let num = 0;
  let den = 0;
  let actual = 0;
  for (const { x2, s, r } of top) {
    if (s <= 0) continue;
    den += s;
    actual++;
    if (o.mode === 'basic') num += s * r;
    else if (o.mode === 'means') num += s * (r - mean(X, x2));
    else num += s * (r - (o.mu + bx![x2]! + by![y]!));
  }
  if (o.mode === 'basic') return actual < o.minK || den === 0 ? NaN : num / den;
  const base = o.mode === 'means' ? mean(X, x) : o.mu + bx![x]! + by![y]!;
  if (actual < o.minK) num = 0;
  return den === 0 ? base : base + num / den;
}
