// RecVAE (Shenbin et al. 2020, "RecVAE: a New Variational Autoencoder for Top-N Recommendations with Implicit
// Feedback"): Mult-VAE's model with four changes that the paper measures one by one.
//  - A deeper encoder: five dense layers with swish activations, layer normalisation and dense residual
//    connections (each layer's input is the sum of every earlier layer's output); the decoder stays linear.
//  - A composite prior: a mixture of N(0, I), the posterior of the encoder as it stood after the previous
//    epoch's encoder passes (so the encoder cannot drift far from what the decoder was trained on), and a wide
//    normal N(0, e^10 I), with the authors' weights 3/20, 3/4, 1/10.
//  - A KL weight per user, beta'_u = gamma |I_u|, instead of one annealed beta.
//  - Alternating updates: each epoch runs several passes that update the encoder only (with input dropout),
//    then one pass that updates the decoder only (no dropout), each with its own Adam.
// Scoring encodes a user's items (z = mu) and decodes them, so new users are folded in from their items, as in
// Mult-VAE. Costs: as Mult-VAE's, plus four hidden x hidden layers and (encoderPasses + 1) passes per epoch.
import type * as TF from '@tensorflow/tfjs';
import { argError, native } from '../../errors.js';
import type { Dataset } from '../../data/dataset.js';
import { addon } from '../../native.js';
import { Rng } from '../../rng.js';
import { deepSpec, type DeepDefaults, type DeepParams, type MemoryNeed, type Trainer } from './base.js';
import { BAG_WEIGHT, BagVae, BLOCK, NO_DROPOUT, type Weights } from './vae.js';
import { FLOAT_LIMIT, resolveParams, type ModelSpec } from '../params.js';
import type { Tf } from './backend.js';
import { compositePriorLogDensity, recVaeLoss } from './losses.js';
import { matMul } from './ops.js';
import { ParamStore, glorotUniform, type OptimizerConfig } from './params.js';
import type { ModelTask } from '../base.js';

export interface RecVAEParams extends DeepParams {
  /** Width of the encoder's hidden layers. Default 600. */
  hidden?: number;
  /** Latent dimension. Default 200. */
  latent?: number;
  /** Dense layers of the encoder before its (mu, log-variance) output. Default 5 (the paper's). */
  layers?: number;
  /** Dropout on the (normalised) input during the encoder passes. Default 0.5. */
  dropout?: number;
  /** The KL weight of a user is gamma times their number of items. Default 0.005 (the paper's). */
  gamma?: number;
  /** Encoder-only passes over the users per epoch, before the decoder's one. Default 3 (the paper's). */
  encoderPasses?: number;
}

/** Layer normalisation's epsilon in the authors' code (large: it damps the scale of near-constant layers). */
const LN_EPS = 0.1;

const spec: ModelSpec = {
  params: {
    ...deepSpec,
    hidden: { int: [1, 2 ** 31 - 1] },
    latent: { int: [1, 2 ** 31 - 1] },
    layers: { int: [1, 64] },
    dropout: { real: [0, 0.999999] },
    gamma: { real: [0, FLOAT_LIMIT] },
    encoderPasses: { int: [1, 1000] },
  },
};

/**
 * RecVAE for top-N recommendation from implicit feedback. Scores are log-probabilities of the multinomial over
 * items; recommendForNewUser encodes the given items. Ratings are ignored (binary).
 */
export class RecVAE extends BagVae<RecVAEParams> {
  readonly name: string = 'RecVAE';
  readonly tasks: readonly ModelTask[] = ['ranking'];

  constructor(params: RecVAEParams = {}) {
    super(resolveParams('RecVAE', params, spec));
    const p = params;
    const posInt = (k: 'hidden' | 'latent' | 'layers' | 'encoderPasses', max: number) => {
      const v = p[k];
      if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > max)) throw argError(`${k} must be an integer in [1, ${max}], got ${String(v)}`);
    };
    posInt('hidden', 2 ** 31 - 1);
    posInt('latent', 2 ** 31 - 1);
    posInt('layers', 64);
    posInt('encoderPasses', 1000);
    if (p.dropout !== undefined && !(typeof p.dropout === 'number' && p.dropout >= 0 && p.dropout < 1))
      throw argError(`dropout must be in [0, 1), got ${String(p.dropout)}`);
    if (p.gamma !== undefined && !(typeof p.gamma === 'number' && p.gamma >= 0 && Number.isFinite(p.gamma)))
      throw argError(`gamma must be a number >= 0, got ${String(p.gamma)}`);
  }

  protected defaults(): DeepDefaults {
    // The paper's 500 users per step and lr 5e-4 suit ML-20M; on ML-100K (943 users) 100 users per step gives the
    // optimizers enough steps per pass. There, validation ndcg@10 (20% of each user's training items held out)
    // rose to its peak by epoch 7-8 (0.230; each epoch is four passes) and fell after (0.223 at 10); 30 epochs
    // overfit (test NDCG@10 0.402 under the MS protocol, seed 1).
    return { epochs: 8, batchSize: 100, lr: 0.001, validation: 0, patience: 10 };
  }

  private dims(): { hidden: number; latent: number; layers: number } {
    return { hidden: this.params.hidden ?? 600, latent: this.params.latent ?? 200, layers: this.params.layers ?? 5 };
  }

  protected latentSize(): number {
    return this.dims().latent;
  }

  protected outputWeight(): string {
    return 'decoder_weight';
  }

  protected stateShapes(_nUsers: number, nItems: number): Record<string, number[]> {
    const { hidden: H, latent: K, layers: L } = this.dims();
    const out: Record<string, number[]> = {};
    for (let l = 0; l < L; l++) {
      out[`encoder_${l}_weight`] = [l === 0 ? nItems : H, H];
      out[`encoder_${l}_bias`] = [H];
      out[`encoder_${l}_ln_scale`] = [H];
      out[`encoder_${l}_ln_offset`] = [H];
    }
    out['encoder_out_weight'] = [H, 2 * K];
    out['encoder_out_bias'] = [2 * K];
    out['decoder_weight'] = [K, nItems];
    out['decoder_bias'] = [nItems];
    return out;
  }

  protected memoryNeed(data: Dataset): MemoryNeed {
    const nI = data.nItems;
    const { hidden: H, latent: K, layers: L } = this.dims();
    let all = 0;
    let largest = 0;
    for (const shape of Object.values(this.stateShapes(data.nUsers, nI))) {
      const n = shape.reduce((a, b) => a * b, 1);
      all += n;
      largest = Math.max(largest, n);
    }
    const posterior = 2 * data.nUsers * K;
    const dense = all - nI * H;
    const widths = 4 * L * H + 6 * K;
    const b = Math.min(this.opt('batchSize'), Math.max(1, data.nUsers));
    const validation = this.opt('validation') > 0 ? all : 0;
    // Host: weights and moments, every user's previous posterior (the prior), gradients read back, the batch's input.
    const host = 4 * (all * this.optimizerCopies() + posterior + 2 * dense + validation + b * nI + 4 * b * H);
    // A step: the dense weights, their gradients, the batch's logits, softmax
    // and their gradients, the layers' activations.
    const step = 4 * (3 * dense + 6 * b * nI + 4 * b * widths);
    const block = Math.min(Math.max(1, data.nUsers), Math.max(1, Math.min(1024, Math.floor(BLOCK / nI))));
    const score = 4 * (dense + 4 * block * nI + 2 * block * widths);
    return {
      host,
      tensors: Math.max(step, score),
      largest: Math.max(largest, b * nI, block * nI),
      detail: `encoder ${nI}-${H}x${L}-${2 * K}, decoder ${K}-${nI}, batch ${b}`,
    };
  }

  /** Dense tensors of the encoder (its first layer's weight is the sparse bag, kept on the host). */
  private encoderNames(nItems: number): string[] {
    return Object.keys(this.stateShapes(0, nItems)).filter((n) => n.startsWith('encoder_') && n !== 'encoder_0_weight');
  }

  /**
   * @internal (mu, logvar) from the first layer's product x W0 (computed natively from the sparse input): per layer l,
   * h_l = LayerNorm(swish(W_l h_{l-1} + b_l + sum_{j<l} h_j)), then the linear output layer.
   */
  protected encodeLatent(tf: Tf, pre0: TF.Tensor2D, w: Weights): { mu: TF.Tensor2D; logvar: TF.Tensor2D } {
    const { latent: K, layers: L } = this.dims();
    const norm = (h: TF.Tensor2D, l: number): TF.Tensor2D => {
      const { mean, variance } = tf.moments(h, 1, true);
      const n = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, LN_EPS)));
      return tf.add(tf.mul(n, w(`encoder_${l}_ln_scale`)), w(`encoder_${l}_ln_offset`));
    };
    const swish = (x: TF.Tensor2D): TF.Tensor2D => tf.mul(x, tf.sigmoid(x));
    let h = norm(swish(tf.add<TF.Tensor2D>(pre0, w('encoder_0_bias'))), 0);
    let sum = h;
    for (let l = 1; l < L; l++) {
      if (l > 1) sum = tf.add<TF.Tensor2D>(sum, h);
      h = norm(swish(tf.add<TF.Tensor2D>(tf.add(matMul(tf, h, w(`encoder_${l}_weight`)), w(`encoder_${l}_bias`)), sum)), l);
    }
    const out = tf.add<TF.Tensor2D>(matMul(tf, h, w('encoder_out_weight')), w('encoder_out_bias'));
    const b = pre0.shape[0];
    return { mu: tf.slice(out, [0, 0], [b, K]), logvar: tf.slice(out, [0, K], [b, K]) };
  }

  /** @internal */
  protected decodeLogits(tf: Tf, z: TF.Tensor2D, w: Weights): TF.Tensor2D {
    return tf.add<TF.Tensor2D>(matMul(tf, z, w('decoder_weight')), w('decoder_bias'));
  }

  /** @internal */
  protected makeTrainer(tf: Tf, data: Dataset): Trainer {
    const nItems = data.nItems;
    const seed = this.params.seed ?? 42;
    const rng = new Rng(seed, 0);
    const { hidden: H, latent: K } = this.dims();
    const w = new ParamStore();
    for (const [name, shape] of Object.entries(this.stateShapes(data.nUsers, nItems))) {
      let init: Float32Array;
      if (name.endsWith('_weight')) init = glorotUniform(shape[0]!, shape[1]!, rng);
      else if (name.endsWith('_ln_scale')) init = new Float32Array(shape[0]!).fill(1);
      else init = new Float32Array(shape[0]!);
      w.add(name, { shape, rows: name === 'encoder_0_weight' }, init);
    }
    const encNames = this.encoderNames(nItems);
    const decNames = ['decoder_weight', 'decoder_bias'];
    // The prior's posterior: every user's (mu, logvar) under the encoder as it stands after each epoch's encoder
    // passes (and at the start), computed once then rather than by a frozen copy of the encoder at every step.
    let post = this.encodePosterior(
      tf,
      w,
      data.csr,
      Int32Array.from({ length: data.nUsers }, (_, u) => u),
    );
    const refresh = () => {
      post = this.encodePosterior(
        tf,
        w,
        data.csr,
        Int32Array.from({ length: data.nUsers }, (_, u) => u),
      );
    };
    const active = Int32Array.from({ length: data.nUsers }, (_, u) => u).filter((u) => data.csr.indptr[u + 1]! > data.csr.indptr[u]!);
    const bs = Math.min(this.opt('batchSize'), Math.max(1, active.length));
    const perPass = Math.ceil(active.length / bs);
    const passes = (this.params.encoderPasses ?? 3) + 1;
    const gamma = this.params.gamma ?? 0.005;
    const dropout = this.params.dropout ?? 0.5;
    const opt: OptimizerConfig = { method: this.params.optimizer ?? 'adam', lr: this.opt('lr') };
    const threads = this.params.threads ?? 0;
    return {
      weights: w,
      epochs: this.opt('epochs'),
      epoch: (e) => {
        const orders = Array.from({ length: passes }, (_, p) => {
          const o = active.slice();
          new Rng(seed, 1000 + e * passes + p).shuffle(o);
          return o;
        });
        return {
          steps: passes * perPass,
          step: (s) => {
            const pass = Math.floor(s / perPass);
            const decoderPass = pass === passes - 1;
            if (decoderPass && s % perPass === 0) refresh();
            const j = s % perPass;
            const users = orders[pass]!.subarray(j * bs, Math.min(active.length, (j + 1) * bs));
            const b = users.length;
            const t = w.steps;
            const drop = decoderPass ? NO_DROPOUT : { dropout, seed, epoch: t };
            const { pre, entries } = this.firstLayer(w.get(BAG_WEIGHT), data.csr, users, drop);
            const postMu = native(() => addon.gatherRows(post.mu, K, users));
            const postLogvar = native(() => addon.gatherRows(post.logvar, K, users));
            const x = native(() => addon.denseRows(data.csr, users, { binary: true, ...NO_DROPOUT, normalize: false, threads }));
            const klWeight = Float32Array.from(users, (u) => gamma * (data.csr.indptr[u + 1]! - data.csr.indptr[u]!));
            w.tick();
            return tf.tidy(() => {
              const xt = tf.tensor2d(x, [b, nItems]);
              const eps = tf.randomNormal([b, K], 0, 1, 'float32', (seed * 7919 + t) % 2147483647);
              const tensor = (nm: string, src: Float32Array) => tf.tensor(src, w.shape(nm));
              const pMu = tf.tensor2d(postMu, [b, K]);
              const pLogvar = tf.tensor2d(postLogvar, [b, K]);
              const kw = tf.tensor1d(klWeight);
              const trained = decoderPass ? decNames : encNames;
              const fixed = new Map((decoderPass ? encNames : decNames).map((nm) => [nm, tensor(nm, w.get(nm))]));
              const pre0 = tf.tensor2d(pre, [b, H]);
              const args = [...(decoderPass ? [] : [pre0]), ...trained.map((nm) => tensor(nm, w.get(nm)))];
              const f = (...a: TF.Tensor[]) => {
                const off = decoderPass ? 0 : 1;
                const get = (nm: string) => {
                  const k = trained.indexOf(nm);
                  return k >= 0 ? a[k + off]! : fixed.get(nm)!;
                };
                const { mu, logvar } = this.encodeLatent(tf, decoderPass ? pre0 : (a[0] as TF.Tensor2D), get);
                const z = tf.add<TF.Tensor2D>(mu, tf.mul(eps, tf.exp(tf.mul(0.5, logvar))));
                const prior = compositePriorLogDensity(tf, z, pMu, pLogvar);
                return recVaeLoss(tf, this.decodeLogits(tf, z, get), xt, z, mu, logvar, prior, kw).loss;
              };
              const { value, grads } = tf.valueAndGrads(f)(args);
              const g = grads.map((gt) => gt.dataSync() as Float32Array);
              if (!decoderPass) w.stepBag('encoder_0_weight', entries, g[0]!, opt);
              const off = decoderPass ? 0 : 1;
              trained.forEach((nm, k) => w.step(nm, g[k + off]!, opt));
              return value.dataSync()[0]!;
            });
          },
        };
      },
    };
  }
}
