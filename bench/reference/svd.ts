// Exact dense linear algebra in plain TypeScript (double precision), the oracles of the native truncated SVD
// and EASE tests: a one-sided Jacobi SVD and a Gauss-Jordan inverse.

/** Full thin SVD of a dense m x n row-major matrix (any shape): singular values descending, U m x r, Vt r x n, r = min(m, n). */
export function jacobiSvd(A: ArrayLike<number>, m: number, n: number): { S: Float64Array; U: Float64Array; Vt: Float64Array } {
  // Work on the taller orientation so columns are the short side.
  const tall = m >= n;
  const rows = tall ? m : n, cols = tall ? n : m;
  const W = new Float64Array(rows * cols); // column-major: column c at c * rows
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    const v = A[i * n + j]!;
    if (tall) W[j * rows + i] = v;
    else W[i * rows + j] = v;
  }
  const V = new Float64Array(cols * cols);
  for (let c = 0; c < cols; c++) V[c * cols + c] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < cols - 1; p++) for (let q = p + 1; q < cols; q++) {
      let a = 0, b = 0, g = 0;
      for (let i = 0; i < rows; i++) {
        const x = W[p * rows + i]!, y = W[q * rows + i]!;
        a += x * x;
        b += y * y;
        g += x * y;
      }
      if (a === 0 || b === 0 || Math.abs(g) <= 1e-15 * Math.sqrt(a * b)) continue;
      rotated = true;
      const zeta = (b - a) / (2 * g);
      const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
      const c = 1 / Math.sqrt(1 + t * t), s = c * t;
      for (let i = 0; i < rows; i++) {
        const x = W[p * rows + i]!, y = W[q * rows + i]!;
        W[p * rows + i] = c * x - s * y;
        W[q * rows + i] = s * x + c * y;
      }
      for (let i = 0; i < cols; i++) {
        const x = V[p * cols + i]!, y = V[q * cols + i]!;
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
  const left = new Float64Array(rows * r), right = new Float64Array(r * cols);
  order.forEach((c, t) => {
    for (let i = 0; i < rows; i++) left[i * r + t] = norms[c]! > 0 ? W[c * rows + i]! / norms[c]! : 0;
    for (let i = 0; i < cols; i++) right[t * cols + i] = V[c * cols + i]!;
  });
  if (tall) return { S, U: left, Vt: right };
  // A^T (n x m) = left S right  =>  A = right^T S left^T
  const U = new Float64Array(m * r), Vt = new Float64Array(r * n);
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
      M[c * n + j] /= d;
      I[c * n + j] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r * n + c]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        M[r * n + j] -= f * M[c * n + j]!;
        I[r * n + j] -= f * I[c * n + j]!;
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
      for (let j = 0; j < items; j++) G[i * items + j] += xi * X[u * items + j]!;
    }
  for (let i = 0; i < items; i++) G[i * items + i] += lambda;
  const P = invert(G, items);
  const B = new Float64Array(items * items);
  for (let i = 0; i < items; i++) for (let j = 0; j < items; j++) B[i * items + j] = i === j ? 0 : -P[i * items + j]! / P[j * items + j]!;
  return B;
}
