// One ImplicitALS sweep in plain TypeScript (users, then items), the algorithm of native/models/als.cc: with
// G = Y^T Y + reg I, each row solves (G + Y^T (C_u - I) Y) x = Y^T C_u p_u, c = 1 + alpha |r|, p = [r > 0], either
// by `cgSteps` conjugate-gradient steps warm-started from the current vector or exactly (Cholesky). Arithmetic in
// double, factors stored as float32. A test oracle and the plain-TS baseline of the kernel benchmark.
import type { CsrMatrix } from '../../ts/native.js';

export interface AlsSweepOptions {
  factors: number;
  reg: number;
  alpha: number;
  solver: 'cg' | 'cholesky';
  cgSteps?: number;
  /** Ignore values (r = 1). */
  binary?: boolean;
}

/** R: users x items, Rt: its transpose; U (users x k) and V (items x k) are updated in place. */
export function alsSweep(R: CsrMatrix, Rt: CsrMatrix, U: Float32Array, V: Float32Array, o: AlsSweepOptions): void {
  solveSide(R, U, V, o);
  solveSide(Rt, V, U, o);
}

function solveSide(R: CsrMatrix, X: Float32Array, Y: Float32Array, o: AlsSweepOptions): void {
  const k = o.factors;
  const nY = Y.length / k;
  const G = new Float64Array(k * k);
  for (let r = 0; r < nY; r++)
    for (let a = 0; a < k; a++) {
      const ya = Y[r * k + a]!;
      if (ya === 0) continue;
      for (let b = 0; b < k; b++) G[a * k + b]! += ya * Y[r * k + b]!;
    }
  for (let a = 0; a < k; a++) G[a * k + a]! += o.reg;
  const x = new Float64Array(k),
    r = new Float64Array(k),
    p = new Float64Array(k),
    Ap = new Float64Array(k);
  const A = new Float64Array(k * k);
  const dotY = (row: number, v: Float64Array) => {
    let s = 0;
    for (let c = 0; c < k; c++) s += Y[row * k + c]! * v[c]!;
    return s;
  };
  const gemv = (v: Float64Array, out: Float64Array) => {
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let b = 0; b < k; b++) s += G[a * k + b]! * v[b]!;
      out[a] = s;
    }
  };
  for (let u = 0; u < R.rows; u++) {
    const b = R.indptr[u]!,
      e = R.indptr[u + 1]!;
    if (b === e) {
      X.fill(0, u * k, (u + 1) * k);
      continue;
    }
    const conf = (q: number) => {
      const v = o.binary || !R.data ? 1 : R.data[q]!;
      const c = 1 + o.alpha * Math.abs(v);
      return [c, v > 0 ? c : 0] as const;
    };
    if (o.solver === 'cholesky') {
      A.set(G);
      x.fill(0);
      for (let q = b; q < e; q++) {
        const [c, cp] = conf(q);
        const i = R.indices[q]!;
        for (let a = 0; a < k; a++) {
          const ya = Y[i * k + a]!;
          for (let bb = 0; bb < k; bb++) A[a * k + bb]! += (c - 1) * ya * Y[i * k + bb]!;
          x[a]! += cp * ya;
        }
      }
      choleskySolve(A, x, k);
    } else {
      for (let c = 0; c < k; c++) x[c] = X[u * k + c]!;
      gemv(x, r);
      for (let c = 0; c < k; c++) r[c] = -r[c]!;
      for (let q = b; q < e; q++) {
        const [c, cp] = conf(q);
        const i = R.indices[q]!;
        const w = cp - (c - 1) * dotY(i, x);
        for (let t = 0; t < k; t++) r[t]! += w * Y[i * k + t]!;
      }
      p.set(r);
      let rs = 0;
      for (let t = 0; t < k; t++) rs += r[t]! * r[t]!;
      for (let it = 0; it < (o.cgSteps ?? 3) && rs >= 1e-20; it++) {
        gemv(p, Ap);
        for (let q = b; q < e; q++) {
          const [c] = conf(q);
          if (c === 1) continue;
          const i = R.indices[q]!;
          const w = (c - 1) * dotY(i, p);
          for (let t = 0; t < k; t++) Ap[t]! += w * Y[i * k + t]!;
        }
        let pAp = 0;
        for (let t = 0; t < k; t++) pAp += p[t]! * Ap[t]!;
        if (!(pAp > 0)) break;
        const a = rs / pAp;
        let rsNew = 0;
        for (let t = 0; t < k; t++) {
          x[t]! += a * p[t]!;
          r[t]! -= a * Ap[t]!;
          rsNew += r[t]! * r[t]!;
        }
        if (rsNew < 1e-20) break;
        const beta = rsNew / rs;
        for (let t = 0; t < k; t++) p[t] = r[t]! + beta * p[t]!;
        rs = rsNew;
      }
    }
    for (let c = 0; c < k; c++) X[u * k + c] = x[c]!;
  }
}

/** Solves A x = b in place (A symmetric positive definite, k x k row-major, destroyed). */
export function choleskySolve(A: Float64Array, b: Float64Array, k: number): void {
  for (let j = 0; j < k; j++) {
    let d = A[j * k + j]!;
    for (let p = 0; p < j; p++) d -= A[j * k + p]! ** 2;
    if (!(d > 0)) throw new Error('not positive definite');
    const l = Math.sqrt(d);
    A[j * k + j] = l;
    for (let i = j + 1; i < k; i++) {
      let s = A[i * k + j]!;
      for (let p = 0; p < j; p++) s -= A[i * k + p]! * A[j * k + p]!;
      A[i * k + j] = s / l;
    }
  }
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= A[i * k + p]! * b[p]!;
    b[i] = s / A[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let p = i + 1; p < k; p++) s -= A[p * k + i]! * b[p]!;
    b[i] = s / A[i * k + i]!;
  }
}
