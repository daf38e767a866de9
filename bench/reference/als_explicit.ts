// Plain-TypeScript reference of one ExplicitALS sweep (ALS-WR with biases): every user's ridge system solved
// against the item side, then every item's against the new user side, with a textbook Cholesky in doubles.
import type { RatingsCsr } from './sgd_mf.js';

export interface ExplicitAlsState {
  factors: number;
  U: Float64Array | Float32Array;
  V: Float64Array | Float32Array;
  /** Length 0 when unbiased. */
  bu: Float64Array | Float32Array;
  bi: Float64Array | Float32Array;
  mu: number;
}

/** Solves A x = b in place (A: n x n symmetric positive definite, row-major; b becomes x). */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number): void {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j]!;
    for (let p = 0; p < j; p++) d -= L[j * n + p]! * L[j * n + p]!;
    if (!(d > 0)) throw new Error('matrix is not positive definite');
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j]!;
      for (let p = 0; p < j; p++) s -= L[i * n + p]! * L[j * n + p]!;
      L[i * n + j] = s / ljj;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= L[i * n + p]! * b[p]!;
    b[i] = s / L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let p = i + 1; p < n; p++) s -= L[p * n + i]! * b[p]!;
    b[i] = s / L[i * n + i]!;
  }
}

// Rows of M solved against `other` (factors oF, biases oB), written into mine / myBias.
function solveSide(
  M: RatingsCsr,
  k: number,
  mu: number,
  reg: number,
  oF: ArrayLike<number>,
  oB: ArrayLike<number>,
  mine: Float64Array | Float32Array,
  myBias: Float64Array | Float32Array,
): void {
  const biased = myBias.length > 0;
  const d = biased ? k + 1 : k;
  for (let x = 0; x < M.rows; x++) {
    const b0 = M.indptr[x]!;
    const n = M.indptr[x + 1]! - b0;
    if (n === 0) {
      for (let f = 0; f < k; f++) mine[x * k + f] = 0;
      if (biased) myBias[x] = 0;
      continue;
    }
    const A = new Float64Array(d * d);
    const rhs = new Float64Array(d);
    const row = new Float64Array(d);
    for (let q = b0; q < b0 + n; q++) {
      const y = M.indices[q]!;
      for (let f = 0; f < k; f++) row[f] = oF[y * k + f]!;
      let t = (M.data ? M.data[q]! : 1) - mu;
      if (biased) {
        row[k] = 1;
        t -= oB[y]!;
      }
      for (let a = 0; a < d; a++) {
        rhs[a]! += row[a]! * t;
        for (let c = 0; c < d; c++) A[a * d + c]! += row[a]! * row[c]!;
      }
    }
    for (let a = 0; a < d; a++) A[a * d + a]! += reg * n;
    choleskySolve(A, rhs, d);
    for (let f = 0; f < k; f++) mine[x * k + f] = rhs[f]!;
    if (biased) myBias[x] = rhs[k]!;
  }
}

/** One sweep: users, then items. R is users x items, C its transpose. */
export function explicitAlsSweep(R: RatingsCsr, C: RatingsCsr, s: ExplicitAlsState, reg: number): void {
  solveSide(R, s.factors, s.mu, reg, s.V, s.bi, s.U, s.bu);
  solveSide(C, s.factors, s.mu, reg, s.U, s.bu, s.V, s.bi);
}
