import { describe, expect, it } from 'vitest';
import { addon } from '../../ts/native.js';
import { mulberry32, randomMatrix } from '../helpers/random.js';

// Plain TS references, row-major.
function refGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, A: Float32Array, B: Float32Array, C: Float32Array, alpha: number, beta: number) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? A[p * m + i]! : A[i * k + p]!) * (tb ? B[j * k + p]! : B[p * n + j]!);
      out[i * n + j] = alpha * s + beta * C[i * n + j]!;
    }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>) {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const paths = [
  { name: 'built-in kernels', useRef: true },
  { name: `compiled backend (${addon.info().blas})`, useRef: false },
];

describe.each(paths)('BLAS layer: $name', ({ useRef }) => {
  const rnd = mulberry32(7);

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('gemm transA=%s transB=%s matches the plain reference', (ta, tb) => {
    const m = 37,
      n = 29,
      k = 300;
    const A = randomMatrix(m, k, rnd),
      B = randomMatrix(k, n, rnd),
      C = randomMatrix(m, n, rnd);
    const expected = refGemm(ta, tb, m, n, k, A, B, C, 0.5, -1.5);
    const got = C.slice();
    addon._blas.gemm(useRef, ta, tb, m, n, k, A, B, got, 0.5, -1.5);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-3);
  });

  it('gemv both ways matches the plain reference', () => {
    const m = 50,
      n = 17;
    const A = randomMatrix(m, n, rnd),
      x = randomMatrix(1, n, rnd),
      xt = randomMatrix(1, m, rnd);
    const y = new Float32Array(m),
      yt = new Float32Array(n);
    addon._blas.gemv(useRef, false, m, n, A, x, y);
    addon._blas.gemv(useRef, true, m, n, A, xt, yt);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += A[i * n + j]! * x[j]!;
      expect(y[i]).toBeCloseTo(s, 4);
    }
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += A[i * n + j]! * xt[i]!;
      expect(yt[j]).toBeCloseTo(s, 4);
    }
  });

  it('syrk fills both triangles of AᵀA', () => {
    const m = 200,
      n = 12;
    const A = randomMatrix(m, n, rnd);
    const C = new Float32Array(n * n);
    addon._blas.syrk(useRef, n, m, A, C);
    const expected = refGemm(true, false, n, n, m, A, A, new Float32Array(n * n), 1, 0);
    expect(maxAbsDiff(C, expected)).toBeLessThan(1e-3);
  });

  it('Cholesky solve recovers x from (AᵀA + I) x = b for several right-hand sides', () => {
    const n = 24,
      m = 60;
    const A = randomMatrix(m, n, rnd);
    const G = new Float32Array(n * n);
    addon._blas.syrk(true, n, m, A, G);
    for (let i = 0; i < n; i++) G[i * n + i]! += 1;
    const X = randomMatrix(3, n, rnd);
    const B = new Float32Array(3 * n);
    for (let r = 0; r < 3; r++)
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += G[i * n + j]! * X[r * n + j]!;
        B[r * n + i] = s;
      }
    const status = addon._blas.cholSolve(useRef, n, G.slice(), B);
    expect(status).toBe(0);
    expect(maxAbsDiff(B, X)).toBeLessThan(1e-3);
  });

  it('Cholesky reports a matrix that is not positive definite', () => {
    const n = 3;
    const G = Float32Array.from([1, 2, 0, 2, 1, 0, 0, 0, 1]); // eigenvalues 3, -1, 1
    expect(addon._blas.cholSolve(useRef, n, G, new Float32Array(3))).toBeGreaterThan(0);
  });
});

describe('BLAS argument checks', () => {
  it('rejects arrays that are too short with E_ARG instead of reading past them', () => {
    expect(() => addon._blas.gemm(true, false, false, 10, 10, 10, new Float32Array(5), new Float32Array(100), new Float32Array(100), 1, 0)).toThrow(
      expect.objectContaining({ code: 'E_ARG' }),
    );
    expect(() =>
      addon._blas.gemm(true, false, false, 2, 2, 2, new Float64Array(4) as unknown as Float32Array, new Float32Array(4), new Float32Array(4), 1, 0),
    ).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});
