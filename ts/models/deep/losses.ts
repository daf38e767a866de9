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
  return { loss: tf.add<TF.Scalar>(nll, tf.mul(beta, kl)), nll: nll as TF.Scalar, kl: kl as TF.Scalar };
}

/** log N(z; mu, exp(logvar)) per coordinate: -0.5 (logvar + log 2 pi + (z - mu)^2 / exp(logvar)). */
function logNormal(tf: Tf, z: TF.Tensor, mu: TF.Tensor | number, logvar: TF.Tensor | number): TF.Tensor {
  const lv = typeof logvar === 'number' ? tf.scalar(logvar) : logvar;
  return tf.mul(-0.5, tf.add(tf.add(lv, Math.log(2 * Math.PI)), tf.div(tf.square(tf.sub(z, mu)), tf.exp(lv))));
}

/**
 * RecVAE's composite prior (Shenbin et al. 2020, eq. 7), log-density per latent coordinate: the log of
 * w0 N(z; 0, 1) + w1 N(z; postMu, exp(postLogvar)) + w2 N(z; 0, exp(wideLogvar)), a logsumexp of the three
 * weighted log-densities. postMu / postLogvar are the previous encoder's posterior of the same users (constants).
 * Weights and wide log-variance are those of the authors' code: [3/20, 3/4, 1/10] and 10.
 * @internal
 */
export function compositePriorLogDensity(
  tf: Tf,
  z: TF.Tensor2D,
  postMu: TF.Tensor2D,
  postLogvar: TF.Tensor2D,
  weights: readonly [number, number, number] = [3 / 20, 3 / 4, 1 / 10],
  wideLogvar = 10,
): TF.Tensor2D {
  const parts = [
    tf.add(logNormal(tf, z, 0, 0), Math.log(weights[0])),
    tf.add(logNormal(tf, z, postMu, postLogvar), Math.log(weights[1])),
    tf.add(logNormal(tf, z, 0, wideLogvar), Math.log(weights[2])),
  ];
  return tf.logSumExp<TF.Tensor2D>(tf.stack(parts, 2), 2);
}

/**
 * RecVAE's negative ELBO, mean over the batch (Shenbin et al. 2020, eq. 4 and 8): the multinomial log-likelihood
 * -sum_i x_i log softmax(logits)_i plus, per user, klWeight_u (gamma |I_u|) times the single-sample KL estimate
 * sum_k [log q(z_k | x) - log p(z_k)] with the composite prior p.
 * @internal
 */
export function recVaeLoss(
  tf: Tf,
  logits: TF.Tensor2D,
  x: TF.Tensor2D,
  z: TF.Tensor2D,
  mu: TF.Tensor2D,
  logvar: TF.Tensor2D,
  prior: TF.Tensor2D,
  klWeight: TF.Tensor1D,
): { loss: TF.Scalar; nll: TF.Scalar; kl: TF.Scalar } {
  const nll = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), x), 1)));
  const kl = tf.mean(tf.mul(tf.sum(tf.sub(logNormal(tf, z, mu, logvar), prior), 1), klWeight));
  return { loss: tf.add<TF.Scalar>(nll, kl), nll: nll as TF.Scalar, kl: kl as TF.Scalar };
}
