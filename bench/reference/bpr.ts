// One BPR epoch in plain TypeScript, the same algorithm as native/models/bpr.cc on one thread: as many samples as
// interactions, the positive pair drawn uniformly among the interactions, the negative uniformly among the user's
// unseen items as native/core/sampling.cc draws it (re-drawn among all items while seen; for a user who has seen
// more than half the catalogue, the r-th unseen item), from the same two generator streams, so on small data it
// reproduces the native single-threaded epoch up to float rounding. A test oracle and the plain-TS baseline of
// the kernel benchmark.
import type { CsrMatrix } from '../../ts/native.js';
import { Rng } from './rng.js';

export interface BprState {
  factors: number;
  /** users x factors, row-major; updated in place. */
  U: Float32Array;
  /** items x factors; updated in place. */
  V: Float32Array;
  /** items; updated in place. */
  itemBias: Float32Array;
}

/** The streams of the positive and negative samples of `epoch` on thread 0 (as native). */
export const sampleStream = (epoch: number) => (1n << 48n) + (BigInt(epoch) << 12n);
export const negativeStream = (epoch: number) => (1n << 49n) + (BigInt(epoch) << 12n);

export function bprEpoch(R: CsrMatrix, s: BprState, o: { lr: number; reg: number; seed: number; epoch: number }): void {
  const { indptr, indices } = R;
  const nnz = indptr[R.rows]!;
  const k = s.factors;
  const rowOf = new Int32Array(nnz);
  for (let u = 0; u < R.rows; u++) rowOf.fill(u, indptr[u], indptr[u + 1]);
  const has = (u: number, item: number) => {
    let lo = indptr[u]!,
      hi = indptr[u + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (indices[mid]! < item) lo = mid + 1;
      else hi = mid;
    }
    return lo < indptr[u + 1]! && indices[lo] === item;
  };
  const pos = new Rng(o.seed, sampleStream(o.epoch)),
    neg = new Rng(o.seed, negativeStream(o.epoch));
  const { U, V, itemBias } = s;
  const f = Math.fround;
  for (let n = 0; n < nnz; n++) {
    const q = pos.below(nnz);
    const u = rowOf[q]!,
      i = indices[q]!;
    const len = indptr[u + 1]! - indptr[u]!;
    if (len >= R.cols) continue;
    let j: number;
    if (len * 2 <= R.cols) {
      do j = neg.below(R.cols);
      while (has(u, j));
    } else {
      j = neg.below(R.cols - len);
      for (let p = indptr[u]!; p < indptr[u + 1]! && indices[p]! <= j; p++) j++;
    }
    const x = u * k,
      yi = i * k,
      yj = j * k;
    let d = itemBias[i]! - itemBias[j]!;
    for (let c = 0; c < k; c++) d += U[x + c]! * (V[yi + c]! - V[yj + c]!);
    const z = 1 / (1 + Math.exp(d));
    for (let c = 0; c < k; c++) {
      const xf = U[x + c]!;
      U[x + c] = f(xf + o.lr * (z * (V[yi + c]! - V[yj + c]!) - o.reg * xf));
      V[yi + c] = f(V[yi + c]! + o.lr * (z * xf - o.reg * V[yi + c]!));
      V[yj + c] = f(V[yj + c]! + o.lr * (-z * xf - o.reg * V[yj + c]!));
    }
    itemBias[i] = f(itemBias[i]! + o.lr * (z - o.reg * itemBias[i]!));
    itemBias[j] = f(itemBias[j]! + o.lr * (-z - o.reg * itemBias[j]!));
  }
}
