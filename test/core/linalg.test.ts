// QR, SPD inverse and thin SVD of the BLAS layer: the LAPACK path and the built-in fallback, each against
// plain double-precision references (bench/reference/svd.ts).
import { describe, expect, it } from 'vitest';
import { addon } from '../../ts/native.js';
import { invert, jacobiSvd } from '../../bench/reference/svd.js';
import { mulberry32, randomMatrix } from '../helpers/random.js';

const paths = [
  { name: 'built-in kernels', useRef: true },
  { name: `compiled backend (${addon.info().blas})`, useRef: false },
];

function matmul(A: ArrayLike<number>, B: ArrayLike<number>, m: number, k: number, n: number, ta = false): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const a = ta ? A[p * m + i]! : A[i * k + p]!;
      for (let j = 0; j < n; j++) C[i * n + j]! += a * B[p * n + j]!;
    }
  return C;
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};
const eye = (n: number) => {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
};

describe.each(paths)('linear algebra: $name', ({ useRef }) => {
  const rnd = mulberry32(11);

  it.each([
    [40, 7],
    [9, 9],
    [300, 24],
  ])('qr of %i x %i: orthonormal Q spanning the columns', (m, n) => {
    const A = randomMatrix(m, n, rnd);
    const Q = A.slice();
    expect(addon._blas.qr(useRef, m, n, Q)).toBe(0);
    expect(maxAbs(matmul(Q, Q, n, m, n, true), eye(n))).toBeLessThan(1e-5);
    // A = Q (Q^T A)
    const R = matmul(Q, A, n, m, n, true);
    expect(maxAbs(matmul(Q, R, m, n, n), A)).toBeLessThan(1e-4);
    // R is upper triangular up to rounding (Q's columns come in A's column order)
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) expect(Math.abs(R[i * n + j]!)).toBeLessThan(1e-4);
  });

  it('qr of a tall rank-deficient matrix still gives orthonormal columns spanning it', () => {
    // the compiled path tries Cholesky QR first on tall matrices and must fall back to Householder here
    const m = 200,
      n = 10;
    const L = randomMatrix(m, 3, rnd),
      R = randomMatrix(3, n, rnd);
    const A = new Float32Array(matmul(L, R, m, 3, n));
    const Q = A.slice();
    expect(addon._blas.qr(useRef, m, n, Q)).toBe(0);
    expect(maxAbs(matmul(Q, Q, n, m, n, true), eye(n))).toBeLessThan(1e-4);
    expect(maxAbs(matmul(Q, matmul(Q, A, n, m, n, true), m, n, n), A)).toBeLessThan(1e-4);
  });

  it('inverse of a symmetric positive definite matrix matches Gauss-Jordan', () => {
    const n = 30;
    const X = randomMatrix(50, n, rnd);
    const G = new Float32Array(matmul(X, X, n, 50, n, true));
    for (let i = 0; i < n; i++) G[i * n + i]! += 0.5;
    const expected = invert(G, n);
    const got = G.slice();
    expect(addon._blas.inverse(useRef, n, got)).toBe(0);
    expect(maxAbs(got, expected) / Math.max(...Array.from(expected, Math.abs))).toBeLessThan(1e-4);
    // both triangles filled
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(got[i * n + j]).toBe(got[j * n + i]);
  });

  it('inverse reports a matrix that is not positive definite', () => {
    const A = Float32Array.of(1, 2, 2, 1);
    expect(addon._blas.inverse(useRef, 2, A)).toBeGreaterThan(0);
  });

  it.each([
    [60, 8],
    [12, 12],
    [500, 30],
  ])('svd of %i x %i matches a Jacobi SVD', (m, n) => {
    const A = randomMatrix(m, n, rnd);
    const ref = jacobiSvd(A, m, n);
    const S = new Float32Array(n),
      U = new Float32Array(m * n),
      Vt = new Float32Array(n * n);
    expect(addon._blas.svd(useRef, m, n, A.slice(), S, U, Vt)).toBe(0);
    for (let j = 0; j < n; j++) expect(Math.abs(S[j]! - ref.S[j]!) / ref.S[0]!).toBeLessThan(1e-5);
    expect(maxAbs(matmul(U, U, n, m, n, true), eye(n))).toBeLessThan(1e-4);
    // A = U diag(S) Vt
    const US = Float64Array.from(U, (v, i) => v * S[i % n]!);
    expect(maxAbs(matmul(US, Vt, m, n, n), A)).toBeLessThan(1e-4);
    // Vt orthonormal rows
    const VVt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) VVt[i * n + j]! += Vt[i * n + p]! * Vt[j * n + p]!;
    expect(maxAbs(VVt, eye(n))).toBeLessThan(1e-4);
  });

  it('svd converges on an exactly rank-3 0/1 matrix (zero singular values are rounding residue)', () => {
    const m = 30,
      n = 20;
    const A = new Float32Array(m * n);
    for (let u = 0; u < m; u++) for (let i = 0; i < n; i++) if (u === 0 || (u + i) % 3 === 0) A[u * n + i] = 1;
    const S = new Float32Array(n),
      U = new Float32Array(m * n),
      Vt = new Float32Array(n * n);
    expect(addon._blas.svd(useRef, m, n, A.slice(), S, U, Vt)).toBe(0);
    expect(S[2]! / S[0]!).toBeGreaterThan(0.5);
    for (let j = 3; j < n; j++) expect(S[j]! / S[0]!).toBeLessThan(1e-5);
  });

  it('svd of a rank-deficient matrix has zero trailing singular values and orthonormal U', () => {
    const m = 20,
      n = 6;
    const L = randomMatrix(m, 2, rnd),
      R = randomMatrix(2, n, rnd);
    const A = new Float32Array(matmul(L, R, m, 2, n));
    const S = new Float32Array(n),
      U = new Float32Array(m * n),
      Vt = new Float32Array(n * n);
    expect(addon._blas.svd(useRef, m, n, A.slice(), S, U, Vt)).toBe(0);
    for (let j = 2; j < n; j++) expect(S[j]! / S[0]!).toBeLessThan(1e-5);
    expect(maxAbs(matmul(U, U, n, m, n, true), eye(n))).toBeLessThan(1e-4);
  });
});

describe('argument checks', () => {
  it('rejects wrong shapes with E_ARG', () => {
    expect(() => addon._blas.qr(false, 3, 5, new Float32Array(15))).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => addon._blas.svd(false, 4, 4, new Float32Array(3), new Float32Array(4), new Float32Array(16), new Float32Array(16))).toThrow(
      expect.objectContaining({ code: 'E_ARG' }),
    );
  });
});
