// The training losses of the deep models, written once in TensorFlow.js ops (their gradients come from tfjs's
// autodiff; test/models/deep/losses.test.ts checks them against finite differences of a plain-TS reference).
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from './backend.js';

/**
 * Pointwise log loss (binary cross-entropy on logits), mean over the batch: max(z, 0) - z y + log(1 + e^-|z|),
 * the stable form of -[y log s(z) + (1 - y) log(1 - s(z))]. NCF's objective (He et al. 2017, eq. 7).
 * @internal
 */
export function pointwiseLogLoss(tf: Tf, logits: TF.Tensor, labels: TF.Tensor): TF.Scalar {
  const z = logits;
  const loss = tf.add(tf.sub(tf.relu(z), tf.mul(z, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
  return tf.mean(loss);
}

/**
 * Squared error over the observed entries only, summed and divided by `rows` (the mini-batch's rows): AutoRec's
 * masked objective sum over observed (r - h(r))^2 (Sedhain et al. 2015, eq. 2), without its L2 term (applied by
 * the optimizer). `mask` (same shape, 1 = observed) may be omitted when pred and target hold observed entries only.
 * @internal
 */
export function maskedSquaredError(tf: Tf, pred: TF.Tensor, target: TF.Tensor, rows: number, mask?: TF.Tensor): TF.Scalar {
  let d = tf.square(tf.sub(pred, target));
  if (mask) d = tf.mul(d, mask);
  return tf.div(tf.sum(d), rows);
}

/**
 * Mult-VAE's negative ELBO per user, mean over the batch (Liang et al. 2018, eq. 3 and 6): the multinomial
 * log-likelihood -sum_i x_i log softmax(logits)_i plus beta times KL(N(mu, exp(logvar)) || N(0, I)) =
 * 0.5 sum_k (exp(logvar_k) + mu_k^2 - 1 - logvar_k).
 * @internal
 */
export function multVaeLoss(
  tf: Tf,
  logits: TF.Tensor2D,
  x: TF.Tensor2D,
  mu: TF.Tensor2D,
  logvar: TF.Tensor2D,
  beta: number,
): { loss: TF.Scalar; nll: TF.Scalar; kl: TF.Scalar } {
  const nll = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), x), 1)));
  const kl = tf.mean(tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.exp(logvar), tf.square(mu)), tf.add(1, logvar)), 1)));
  return { loss: tf.add(nll, tf.mul(beta, kl)) as TF.Scalar, nll: nll as TF.Scalar, kl: kl as TF.Scalar };
}
