// The custom losses of the deep models: their values against a plain float64 reference, and the gradients
// TensorFlow.js's autodiff gives against central finite differences of that reference.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { initDeepBackend, tfSync, type Tf } from '../../../ts/models/deep/backend.js';
import { maskedSquaredError, multVaeLoss, pointwiseLogLoss } from '../../../ts/models/deep/losses.js';
import { matMul, matMulT } from '../../../ts/models/deep/ops.js';
import { mulberry32 } from '../../helpers/random.js';

let tf: Tf;
beforeAll(async () => {
  await initDeepBackend();
  tf = tfSync();
});

const rnd = mulberry32(21);
const vec = (n: number, scale = 1) => Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);

// Central differences of a float64 function of one argument vector.
function numericGrad(f: (x: number[]) => number, x: number[], h = 1e-5): number[] {
  return x.map((_, j) => {
    const a = [...x];
    const b = [...x];
    a[j]! += h;
    b[j]! -= h;
    return (f(a) - f(b)) / (2 * h);
  });
}

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) expect(Math.abs(actual[j]! - expected[j]!)).toBeLessThan(tol * Math.max(1, Math.abs(expected[j]!)));
}

describe('pointwise log loss (NCF)', () => {
  const y = [1, 0, 0, 1, 0, 1];
  const ref = (z: number[]) =>
    z.reduce((s, zj, j) => s - (y[j]! * Math.log(1 / (1 + Math.exp(-zj))) + (1 - y[j]!) * Math.log(1 - 1 / (1 + Math.exp(-zj)))), 0) / z.length;

  it('equals the mean binary cross-entropy, also for large logits, and its gradient (s(z) - y)/n', () => {
    const z = [0.3, -1.2, 2.5, -0.4, 0.05, 1.7];
    const labels = tf.tensor1d(y);
    expect(pointwiseLogLoss(tf, tf.tensor1d(z), labels).dataSync()[0]).toBeCloseTo(ref(z), 5);
    const g = tf
      .grad((t: TF.Tensor) => pointwiseLogLoss(tf, t, labels))(tf.tensor1d(z))
      .dataSync();
    expectClose(g, numericGrad(ref, z), 1e-4);
    // Stable where the naive form overflows: -[1 log s(80)] = 0, -[log(1 - s(80))] = 80.
    const big = pointwiseLogLoss(tf, tf.tensor1d([80, 80]), tf.tensor1d([1, 0])).dataSync()[0]!;
    expect(big).toBeCloseTo(40, 4);
  });
});

describe('masked squared error (AutoRec)', () => {
  it('sums squared errors over observed entries only, per row; gradient 2 m (p - t) / rows', () => {
    const rows = 2;
    const cols = 4;
    const t = [4, 0, 3, 5, 0, 2, 0, 1];
    const m = [1, 0, 1, 1, 0, 1, 0, 1];
    const p = vec(rows * cols, 3);
    const ref = (x: number[]) => x.reduce((s, v, j) => s + m[j]! * (v - t[j]!) ** 2, 0) / rows;
    const tt = tf.tensor2d(t, [rows, cols]);
    const mm = tf.tensor2d(m, [rows, cols]);
    expect(maskedSquaredError(tf, tf.tensor2d(p, [rows, cols]), tt, rows, mm).dataSync()[0]).toBeCloseTo(ref(p), 4);
    const g = tf
      .grad((x: TF.Tensor) => maskedSquaredError(tf, x, tt, rows, mm))(tf.tensor2d(p, [rows, cols]))
      .dataSync();
    expectClose(g, numericGrad(ref, p), 1e-3);
    // Unobserved entries get no gradient.
    m.forEach((v, j) => v === 0 && expect(Math.abs(g[j]!)).toBe(0));
  });
});

describe('Mult-VAE negative ELBO', () => {
  const b = 2;
  const n = 5;
  const k = 3;
  const x = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1];
  const beta = 0.3;
  // -mean_u sum_i x_ui log softmax(l_u)_i + beta mean_u 0.5 sum_k (e^lv + mu^2 - 1 - lv), in float64.
  function ref(logits: number[], mu: number[], lv: number[]): number {
    let nll = 0;
    let kl = 0;
    for (let u = 0; u < b; u++) {
      const row = logits.slice(u * n, (u + 1) * n);
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      for (let i = 0; i < n; i++) nll -= x[u * n + i]! * (row[i]! - lse);
      for (let j = 0; j < k; j++) kl += 0.5 * (Math.exp(lv[u * k + j]!) + mu[u * k + j]! ** 2 - 1 - lv[u * k + j]!);
    }
    return nll / b + (beta * kl) / b;
  }
  const logits = vec(b * n, 2);
  const mu = vec(b * k);
  const lv = vec(b * k, 0.5);

  it('has the value of the reference and its gradients in logits, mu and log-variance', () => {
    const xt = tf.tensor2d(x, [b, n]);
    const f = (l: TF.Tensor, m: TF.Tensor, v: TF.Tensor) => multVaeLoss(tf, l as TF.Tensor2D, xt, m as TF.Tensor2D, v as TF.Tensor2D, beta).loss;
    const args = [tf.tensor2d(logits, [b, n]), tf.tensor2d(mu, [b, k]), tf.tensor2d(lv, [b, k])];
    expect(f(args[0]!, args[1]!, args[2]!).dataSync()[0]).toBeCloseTo(ref(logits, mu, lv), 4);
    const [gl, gm, gv] = tf
      .grads((a: TF.Tensor, m: TF.Tensor, v: TF.Tensor) => f(a, m, v))(args)
      .map((t) => t.dataSync());
    expectClose(
      gl!,
      numericGrad((l) => ref(l, mu, lv), logits),
      1e-3,
    );
    expectClose(
      gm!,
      numericGrad((m) => ref(logits, m, lv), mu),
      1e-3,
    );
    expectClose(
      gv!,
      numericGrad((v) => ref(logits, mu, v), lv),
      1e-3,
    );
  });

  it('reports the likelihood and KL terms separately', () => {
    const r = multVaeLoss(tf, tf.tensor2d(logits, [b, n]), tf.tensor2d(x, [b, n]), tf.tensor2d(mu, [b, k]), tf.tensor2d(lv, [b, k]), 0);
    expect(r.loss.dataSync()[0]).toBeCloseTo(r.nll.dataSync()[0]!, 5);
    expect(r.kl.dataSync()[0]).toBeGreaterThan(0);
  });
});

describe('matMul with untransposed gradients', () => {
  it('has the value and the gradients of tf.matMul', () => {
    const a = tf.tensor2d(vec(12), [3, 4]);
    const b = tf.tensor2d(vec(20), [4, 5]);
    const w = tf.tensor2d(vec(15), [3, 5]); // a weighting, so the gradient is not all ones
    expect(Array.from(matMul(tf, a, b).dataSync())).toEqual(Array.from(tf.matMul(a, b).dataSync()));
    const loss = (mm: (x: TF.Tensor, y: TF.Tensor) => TF.Tensor) => (x: TF.Tensor, y: TF.Tensor) => tf.sum(tf.mul(tf.square(mm(x, y)), w));
    const ours = tf
      .grads(loss((x, y) => matMul(tf, x, y)))([a, b])
      .map((t) => Array.from(t.dataSync()));
    const theirs = tf
      .grads(loss((x, y) => tf.matMul(x as TF.Tensor2D, y as TF.Tensor2D)))([a, b])
      .map((t) => Array.from(t.dataSync()));
    for (let j = 0; j < 2; j++) expectClose(ours[j]!, theirs[j]!, 1e-5);
    expect(Array.from(matMulT(tf, a, tf.transpose(b)).dataSync())).toEqual(Array.from(tf.matMul(a, b).dataSync()));
  });
});
