// Plain-TypeScript reference of one epoch of Surprise's NMF (unbiased): the multiplicative updates of every
// user and item factor from sums gathered with the previous epoch's factors.
import type { RatingsCsr } from './sgd_mf.js';

export function nmfEpoch(R: RatingsCsr, U: Float64Array | Float32Array, V: Float64Array | Float32Array, k: number, regUser: number, regItem: number): void {
  const un = new Float64Array(R.rows * k);
  const ud = new Float64Array(R.rows * k);
  const vn = new Float64Array(R.cols * k);
  const vd = new Float64Array(R.cols * k);
  const nu = new Int32Array(R.rows);
  const ni = new Int32Array(R.cols);
  for (let u = 0; u < R.rows; u++) {
    for (let q = R.indptr[u]!; q < R.indptr[u + 1]!; q++) {
      const i = R.indices[q]!;
      const r = R.data ? R.data[q]! : 1;
      let est = 0;
      for (let f = 0; f < k; f++) est += U[u * k + f]! * V[i * k + f]!;
      for (let f = 0; f < k; f++) {
        un[u * k + f]! += V[i * k + f]! * r;
        ud[u * k + f]! += V[i * k + f]! * est;
        vn[i * k + f]! += U[u * k + f]! * r;
        vd[i * k + f]! += U[u * k + f]! * est;
      }
      nu[u]!++;
      ni[i]!++;
    }
  }
  const step = (X: Float64Array | Float32Array, num: Float64Array, den: Float64Array, n: Int32Array, reg: number) => {
    for (let x = 0; x < n.length; x++) {
      for (let f = 0; f < k; f++) {
        const v = X[x * k + f]!;
        if (v === 0) continue;
        X[x * k + f] = (v * num[x * k + f]!) / (den[x * k + f]! + n[x]! * reg * v);
      }
    }
  };
  step(U, un, ud, nu, regUser);
  step(V, vn, vd, ni, regItem);
}
