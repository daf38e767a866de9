// Top-K recommendation for a batch of users in plain TypeScript, the algorithm of NativeModel.recommendBatch for
// a factor model: score every item by a dot product, drop the user's training items, keep the best k in a
// size-k min-heap (ties: the smaller item index ranks first), then sort the heap. A test oracle and the plain-TS
// baseline of the kernel benchmark.
import type { CsrMatrix } from '../../ts/native.js';

export interface TopKBatch {
  /** users.length x k item indices, row-major; counts[r] are valid in row r. */
  items: Int32Array;
  scores: Float32Array;
  counts: Int32Array;
}

/** U: users x f, V: items x f (row-major); seen: the training CSR (users x items) or undefined. */
export function recommendBatchRef(U: Float32Array, V: Float32Array, f: number, users: Int32Array, k: number, seen?: CsrMatrix): TopKBatch {
  const nItems = V.length / f;
  const items = new Int32Array(users.length * k),
    scores = new Float32Array(users.length * k),
    counts = new Int32Array(users.length);
  const scoreRow = new Float32Array(nItems);
  const banned = new Uint8Array(nItems);
  const heap = new Int32Array(k); // item indices, worst at the root
  // "a ranks below b": a lower score, or an equal score and a larger index.
  const worse = (a: number, b: number) => scoreRow[a]! < scoreRow[b]! || (scoreRow[a] === scoreRow[b] && a > b);
  const siftDown = (size: number, at: number) => {
    for (;;) {
      const l = 2 * at + 1,
        r = l + 1;
      let m = at;
      if (l < size && worse(heap[l]!, heap[m]!)) m = l;
      if (r < size && worse(heap[r]!, heap[m]!)) m = r;
      if (m === at) return;
      const t = heap[m]!;
      heap[m] = heap[at]!;
      heap[at] = t;
      at = m;
    }
  };
  for (let row = 0; row < users.length; row++) {
    const u = users[row]!;
    for (let i = 0; i < nItems; i++) {
      let s = 0;
      for (let c = 0; c < f; c++) s += U[u * f + c]! * V[i * f + c]!;
      scoreRow[i] = s;
    }
    if (seen) for (let p = seen.indptr[u]!; p < seen.indptr[u + 1]!; p++) banned[seen.indices[p]!] = 1;
    let size = 0;
    for (let i = 0; i < nItems; i++) {
      if (banned[i] || Number.isNaN(scoreRow[i]!)) continue;
      if (size < k) {
        // sift up
        let at = size++;
        heap[at] = i;
        while (at > 0) {
          const parent = (at - 1) >> 1;
          if (!worse(heap[at]!, heap[parent]!)) break;
          const t = heap[parent]!;
          heap[parent] = heap[at]!;
          heap[at] = t;
          at = parent;
        }
      } else if (k > 0 && worse(heap[0]!, i)) {
        heap[0] = i;
        siftDown(size, 0);
      }
    }
    if (seen) for (let p = seen.indptr[u]!; p < seen.indptr[u + 1]!; p++) banned[seen.indices[p]!] = 0;
    // Pop the worst to the back: the row comes out best first.
    counts[row] = size;
    for (let end = size - 1; end >= 0; end--) {
      items[row * k + end] = heap[0]!;
      scores[row * k + end] = scoreRow[heap[0]!]!;
      heap[0] = heap[end]!;
      siftDown(end, 0);
    }
  }
  return { items, scores, counts };
}
