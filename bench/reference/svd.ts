// Exact dense linear algebra in plain TypeScript (double precision), the oracles of the native truncated SVD
// and EASE tests: a one-sided Jacobi SVD and a Gauss-Jordan inverse.

/** Full thin SVD of a dense m x n row-major matrix (any shape): singular values descending, U m x r, Vt r x n, r = min(m, n). */
export function jacobiSvd(A: ArrayLike<number>, m: number, n: number): { S: Float64Array; U: Float64Array; Vt: Float64Array } {
  // Work on the taller orientation so columns are the short side.
  const tall = m >= n;
  const rows = tall ? m : n,
    cols = tall ? n : m;
  const W = new Float64Array(rows * cols); // column-major: column c at c * rows
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      const v = A[i * n + j]!;
      if (tall) W[j * rows + i] = v;
      else W[i * rows + j] = v;
    }
  const V = new Float64Array(cols * cols);
  for (let c = 0; c < cols; c++) V[c * cols + c] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < cols - 1; p++)
      for (let q = p + 1; q < cols; q++) {
        let a = 0,
          b = 0,
          g = 0;
        for (let i = 0; i < rows; i++) {
          const x = W[p * rows + i]!,
            y = W[q * rows + i]!;
          a += x * x;
          b += y * y;
          g += x * y;
        }
        if (a === 0 || b === 0 || Math.abs(g) <= 1e-15 * Math.sqrt(a * b)) continue;
        rotated = true;
        const zeta = (b - a) / (2 * g);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t),
          s = c * t;
        for (let i = 0; i < rows; i++) {
          const x = W[p * rows + i]!,
            y = W[q * rows + i]!;
          W[p * rows + i] = c * x - s * y;
          W[q * rows + i] = s * x + c * y;
        }
        for (let i = 0; i < cols; i++) {
          const x = V[p * cols + i]!,
            y = V[q * cols + i]!;
          V[p * cols + i] = c * x - s * y;
          V[q * cols + i] = s * x + c * y;
        }
      }
    if (!rotated) break;
  }
  const norms = Array.from({ length: cols }, (_, c) => {
    let s = 0;
    for (let i = 0; i < rows; i++) s += W[c * rows + i]! ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, c) => c).sort((x, y) => norms[y]! - norms[x]!);
  const r = cols;
  const S = Float64Array.from(order, (c) => norms[c]!);
  // tall: A = W-normalized * diag(S) * V^T; wide: A^T = ..., so swap roles.
  const left = new Float64Array(rows * r),
    right = new Float64Array(r * cols);
  order.forEach((c, t) => {
    for (let i = 0; i < rows; i++) left[i * r + t] = norms[c]! > 0 ? W[c * rows + i]! / norms[c]! : 0;
    for (let i = 0; i < cols; i++) right[t * cols + i] = V[c * cols + i]!;
  });
  if (tall) return { S, U: left, Vt: right };
  // A^T (n x m) = left S right  =>  A = right^T S left^T
  const U = new Float64Array(m * r),
    Vt = new Float64Array(r * n);
  for (let i = 0; i < m; i++) for (let t = 0; t < r; t++) U[i * r + t] = right[t * cols + i]!;
  for (let t = 0; t < r; t++) for (let j = 0; j < n; j++) Vt[t * n + j] = left[j * r + t]!;
  return { S, U, Vt };
}

/** Inverse of a dense n x n matrix by Gauss-Jordan with partial pivoting. */
export function invert(A: ArrayLike<number>, n: number): Float64Array {
  const M = Float64Array.from(A);
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]!) > Math.abs(M[piv * n + c]!)) piv = r;
    if (M[piv * n + c] === 0) throw new Error('singular');
    for (const X of [M, I]) for (let j = 0; j < n; j++) [X[c * n + j], X[piv * n + j]] = [X[piv * n + j]!, X[c * n + j]!];
    const d = M[c * n + c]!;
    for (let j = 0; j < n; j++) {
      M[c * n + j]! /= d;
      I[c * n + j]! /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r * n + c]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        M[r * n + j]! -= f * M[c * n + j]!;
        I[r * n + j]! -= f * I[c * n + j]!;
      }
    }
  }
  return I;
}

/** EASE's weights from a dense users x items matrix X: B = I - P diag(1 / diag(P)), P = (X^T X + lambda I)^-1. */
export function easeWeights(X: ArrayLike<number>, users: number, items: number, lambda: number): Float64Array {
  const G = new Float64Array(items * items);
  for (let u = 0; u < users; u++)
    for (let i = 0; i < items; i++) {
      const xi = X[u * items + i]!;
      if (xi === 0) continue;
      for (let j = 0; j < items; j++) G[i * items + j]! += xi * X[u * items + j]!;
    }
  for (let i = 0; i < items; i++) G[i * items + i]! += lambda;
  const P = invert(G, items);
  const B = new Float64Array(items * items);
  for (let i = 0; i < items; i++) for (let j = 0; j < items; j++) B[i * items + j] = i === j ? 0 : -P[i * items + j]! / P[j * items + j]!;
  return B;
}

/**
 * Randomized truncated SVD of a sparse matrix in plain TypeScript, the algorithm of native/models/puresvd.cc
 * (Halko, Martinsson, Tropp 2011): a Gaussian sketch of width l = k + oversample rounded up to 16 (at most
 * min(m, n)), `powerIterations` rounds of A^T / A products each re-orthonormalized (modified Gram-Schmidt here),
 * then the exact SVD (jacobiSvd) of the small n x l matrix A^T Q. Double precision; the sketch is drawn from
 * this file's own Gaussian stream, so results agree with native to the accuracy of the method, not bit for bit.
 * The plain-TS baseline of the kernel benchmark and a test oracle.
 */
export function randomizedSvdRef(
  A: { rows: number; cols: number; indptr: Int32Array; indices: Int32Array; data?: Float32Array },
  k: number,
  o: { oversample?: number; powerIterations?: number; seed?: number } = {},
): { S: Float64Array; U: Float64Array; Vt: Float64Array } {
  const m = A.rows,
    n = A.cols;
  const l = Math.min(Math.ceil((k + (o.oversample ?? 10)) / 16) * 16, Math.min(m, n));
  let s = (o.seed ?? 42) >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const Z = new Float64Array(n * l);
  for (let p = 0; p < n * l; p++) Z[p] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const Y = new Float64Array(m * l);
  const val = (p: number) => (A.data ? A.data[p]! : 1);
  // Y = A Z (m x l)
  const times = (Zin: Float64Array, Yout: Float64Array) => {
    Yout.fill(0);
    for (let i = 0; i < m; i++)
      for (let p = A.indptr[i]!; p < A.indptr[i + 1]!; p++) {
        const v = val(p),
          j = A.indices[p]!;
        for (let c = 0; c < l; c++) Yout[i * l + c]! += v * Zin[j * l + c]!;
      }
  };
  // Z = A^T Y (n x l), scattered from the rows of A
  const timesT = (Yin: Float64Array, Zout: Float64Array) => {
    Zout.fill(0);
    for (let i = 0; i < m; i++)
      for (let p = A.indptr[i]!; p < A.indptr[i + 1]!; p++) {
        const v = val(p),
          j = A.indices[p]!;
        for (let c = 0; c < l; c++) Zout[j * l + c]! += v * Yin[i * l + c]!;
      }
  };
  // Modified Gram-Schmidt on the l columns of a rows x l row-major matrix (a column that vanishes stays zero).
  const orthonormalize = (M: Float64Array, rows: number) => {
    for (let c = 0; c < l; c++) {
      for (let d = 0; d < c; d++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += M[i * l + c]! * M[i * l + d]!;
        for (let i = 0; i < rows; i++) M[i * l + c]! -= dot * M[i * l + d]!;
      }
      let norm = 0;
      for (let i = 0; i < rows; i++) norm += M[i * l + c]! ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < rows; i++) M[i * l + c] = norm > 1e-300 ? M[i * l + c]! / norm : 0;
    }
  };
  times(Z, Y);
  orthonormalize(Y, m);
  for (let it = 0; it < (o.powerIterations ?? 4); it++) {
    timesT(Y, Z);
    orthonormalize(Z, n);
    times(Z, Y);
    orthonormalize(Y, m);
  }
  timesT(Y, Z);
  // Z = Uz S W^T (n x l), so A ~ Q Z^T = (Q W) S Uz^T.
  const small = jacobiSvd(Z, n, l);
  const r = small.S.length;
  const U = new Float64Array(m * k),
    Vt = new Float64Array(k * n);
  for (let i = 0; i < m; i++)
    for (let c = 0; c < k; c++) {
      let sum = 0;
      for (let t = 0; t < l; t++) sum += Y[i * l + t]! * small.Vt[c * l + t]!;
      U[i * k + c] = sum;
    }
  for (let c = 0; c < k; c++) for (let j = 0; j < n; j++) Vt[c * n + j] = small.U[j * r + c]!;
  return { S: small.S.slice(0, k), U, Vt };
}
