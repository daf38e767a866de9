// One ImplicitALS sweep in plain TypeScript (users, then items), the algorithm of native/models/als.cc: with
// G = Y^T Y + reg I, each row solves (G + Y^T (C_u - I) Y) x = Y^T C_u p_u, c = 1 + alpha |r|, p = [r > 0], either
// by `cgSteps` conjugate-gradient steps warm-started from the current vector, exactly (Cholesky), or by iALS++ block
// coordinate descent (exact solves over `blockSize` coordinates at a time, `blockSweeps` passes, warm-started). With
// regExponent nu > 0 a row with n entries gets reg * (n + regUnobserved * other rows)^nu (frequency-scaled, Rendle
// et al. 2021). Arithmetic in double, factors stored as float32. A test oracle and the plain-TS baseline of the
// kernel benchmark.
import type { CsrMatrix } from '../../ts/native.js';

export interface AlsSweepOptions {
  factors: number;
  reg: number;
  alpha: number;
  solver: 'cg' | 'cholesky' | 'block';
  cgSteps?: number;
  blockSize?: number;
  blockSweeps?: number;
  regExponent?: number;
  regUnobserved?: number;
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
    const dreg = rowReg(o, e - b, nY) - o.reg;
    if (o.solver === 'cholesky') {
      A.set(G);
      for (let a = 0; a < k; a++) A[a * k + a]! += dreg;
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
    } else if (o.solver === 'block') {
      for (let c = 0; c < k; c++) x[c] = X[u * k + c]!;
      const bs = Math.min(o.blockSize ?? k, k);
      for (let sweep = 0; sweep < (o.blockSweeps ?? 1); sweep++)
        for (let j0 = 0; j0 < k; j0 += bs) {
          const m = Math.min(bs, k - j0);
          // minimise the row's objective over x[j0, j0 + m) with the rest fixed: A_BB d = -grad_B
          const Ab = new Float64Array(m * m),
            g = new Float64Array(m);
          for (let a = 0; a < m; a++) {
            for (let c = 0; c < m; c++) Ab[a * m + c] = G[(j0 + a) * k + j0 + c]!;
            Ab[a * m + a]! += dreg;
            let s = dreg * x[j0 + a]!;
            for (let c = 0; c < k; c++) s += G[(j0 + a) * k + c]! * x[c]!;
            g[a] = -s;
          }
          for (let q = b; q < e; q++) {
            const [c, cp] = conf(q);
            const i = R.indices[q]!;
            const s = dotY(i, x);
            for (let a = 0; a < m; a++) {
              const ya = Y[i * k + j0 + a]!;
              for (let cc = 0; cc < m; cc++) Ab[a * m + cc]! += (c - 1) * ya * Y[i * k + j0 + cc]!;
              g[a]! += (cp - (c - 1) * s) * ya;
            }
          }
          choleskySolve(Ab, g, m);
          for (let a = 0; a < m; a++) x[j0 + a]! += g[a]!;
        }
    } else {
      for (let c = 0; c < k; c++) x[c] = X[u * k + c]!;
      gemv(x, r);
      for (let c = 0; c < k; c++) r[c] = -r[c]! - dreg * x[c]!;
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
        for (let t = 0; t < k; t++) Ap[t]! += dreg * p[t]!;
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

/** The reg of a row with n entries against `others` rows on the other side (frequency-scaled when regExponent > 0). */
export function rowReg(o: Pick<AlsSweepOptions, 'reg' | 'regExponent' | 'regUnobserved'>, n: number, others: number): number {
  const nu = o.regExponent ?? 0;
  return nu === 0 ? o.reg : o.reg * (n + (o.regUnobserved ?? 1) * others) ** nu;
}

/**
 * The ImplicitALS objective in double over every (user, item) pair: sum c (p - u.v)^2 with c = 1 + alpha |r| and
 * p = [r > 0] on stored pairs, c = 1 and p = 0 elsewhere, plus each row's reg (rowReg) times its squared norm.
 */
export function alsObjective(R: CsrMatrix, U: Float32Array, V: Float32Array, o: AlsSweepOptions): number {
  const k = o.factors;
  const nU = U.length / k,
    nV = V.length / k;
  const itemCount = new Int32Array(nV);
  for (let q = 0; q < R.indptr[R.rows]!; q++) itemCount[R.indices[q]!]!++;
  let l = 0;
  const pred = (u: number, i: number) => {
    let s = 0;
    for (let c = 0; c < k; c++) s += U[u * k + c]! * V[i * k + c]!;
    return s;
  };
  for (let u = 0; u < nU; u++) {
    const stored = new Map<number, number>();
    for (let q = R.indptr[u]!; q < R.indptr[u + 1]!; q++) stored.set(R.indices[q]!, o.binary || !R.data ? 1 : R.data[q]!);
    for (let i = 0; i < nV; i++) {
      const s = pred(u, i);
      const v = stored.get(i);
      if (v === undefined) l += s * s;
      else l += (1 + o.alpha * Math.abs(v)) * ((v > 0 ? 1 : 0) - s) ** 2;
    }
    let n2 = 0;
    for (let c = 0; c < k; c++) n2 += U[u * k + c]! ** 2;
    l += rowReg(o, stored.size, nV) * n2;
  }
  for (let i = 0; i < nV; i++) {
    let n2 = 0;
    for (let c = 0; c < k; c++) n2 += V[i * k + c]! ** 2;
    l += rowReg(o, itemCount[i]!, nU) * n2;
  }
  return l;
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
