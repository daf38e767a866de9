// Mult-VAE (Liang et al. 2018, "Variational Autoencoders for Collaborative Filtering"): a user's item set,
// L2-normalised and with input dropout, is encoded to a Gaussian (mu, sigma) over a latent vector z; the decoder
// maps z to a softmax over the catalogue, trained on the multinomial log-likelihood plus beta times the KL
// divergence to N(0, I), beta rising linearly to its cap (KL annealing). Scoring encodes a user's items (z = mu)
// and decodes them, so a user who was not in training is scored the same way (fold-in, no refit).
//
// The first and last layers are items x hidden and the softmax spans the catalogue: a step costs
// O(batch x items x hidden) and memory is 3 x 2 x items x hidden floats while fitting. Catalogues up to some tens
// of thousands of items train well on a CPU (the paper's ML-20M has 20k); beyond that, prune rare items first.
import type * as TF from '@tensorflow/tfjs';
import { argError, native } from '../../errors.js';
import { Dataset } from '../../data/dataset.js';
import { addon } from '../../native.js';
import { Rng } from '../../rng.js';
import { deepSpec, type DeepDefaults, type DeepParams, type MemoryNeed, type Trainer } from './base.js';
import { BAG_WEIGHT, BagVae, BLOCK, NO_DROPOUT, type Weights } from './vae.js';
import { FLOAT_LIMIT, resolveParams, type ModelSpec } from '../params.js';
import type { Tf } from './backend.js';
import { multVaeLoss } from './losses.js';
import { matMul } from './ops.js';
import { ParamStore, glorotUniform, normal, type OptimizerConfig } from './params.js';
import type { ModelTask } from '../base.js';

export interface MultVAEParams extends DeepParams {
  /** Hidden layer sizes of the encoder (the decoder mirrors them). Default [600]. */
  hidden?: number[];
  /** Latent dimension. Default 200. */
  latent?: number;
  /** Dropout on the (normalised) input during training. Default 0.5. */
  dropout?: number;
  /** Cap of the KL weight beta. Default 0.2. */
  beta?: number;
  /** Optimizer steps over which beta rises linearly from 0 to its cap. Default: all the fit's steps. */
  annealSteps?: number;
  /** L2 on the weight matrices (not biases). Default 0. */
  l2?: number;
}

const spec: ModelSpec = {
  params: {
    ...deepSpec,
    hidden: { intList: [1, 2 ** 31 - 1] },
    latent: { int: [1, 2 ** 31 - 1] },
    dropout: { real: [0, 0.999999] },
    beta: { real: [0, FLOAT_LIMIT] },
    annealSteps: { int: [1, 2 ** 31 - 1] },
    l2: { real: [0, FLOAT_LIMIT] },
  },
};

/**
 * Mult-VAE for top-N recommendation from implicit feedback. Scores are log-probabilities of the multinomial over
 * items (log-softmax of the decoder); recommendForNewUser encodes the given items. Ratings are ignored (binary).
 */
export class MultVAE extends BagVae<MultVAEParams> {
  readonly name: string = 'MultVAE';
  readonly tasks: readonly ModelTask[] = ['ranking'];

  constructor(params: MultVAEParams = {}) {
    super(resolveParams('MultVAE', params, spec));
    const p = params;
    if (p.hidden !== undefined) {
      if (!Array.isArray(p.hidden)) throw argError('hidden must be an array of layer sizes');
      for (const h of p.hidden) if (!Number.isInteger(h) || h < 1) throw argError(`hidden sizes must be integers >= 1, got ${String(h)}`);
    }
    if (p.latent !== undefined && (!Number.isInteger(p.latent) || p.latent < 1)) throw argError(`latent must be an integer >= 1, got ${p.latent}`);
    if (p.dropout !== undefined && !(typeof p.dropout === 'number' && p.dropout >= 0 && p.dropout < 1))
      throw argError(`dropout must be in [0, 1), got ${String(p.dropout)}`);
    if (p.beta !== undefined && !(typeof p.beta === 'number' && p.beta >= 0 && Number.isFinite(p.beta)))
      throw argError(`beta must be a number >= 0, got ${String(p.beta)}`);
    if (p.annealSteps !== undefined && (!Number.isInteger(p.annealSteps) || p.annealSteps < 1))
      throw argError(`annealSteps must be an integer >= 1, got ${p.annealSteps}`);
    if (p.l2 !== undefined && !(typeof p.l2 === 'number' && p.l2 >= 0 && Number.isFinite(p.l2)))
      throw argError(`l2 must be a number >= 0, got ${String(p.l2)}`);
  }

  protected defaults(): DeepDefaults {
    // The paper's 500 users per step suits ML-20M's 136k users; on small data (ML-100K's 943) 100 gives the
    // optimizer enough steps per epoch (validation ndcg@10 peaks within 30-45 epochs there).
    return { epochs: 40, batchSize: 100, lr: 0.001, validation: 0, patience: 10 };
  }

  private dims(nItems: number): { enc: number[]; dec: number[]; latent: number } {
    const hidden = this.params.hidden ?? [600];
    const latent = this.params.latent ?? 200;
    return { enc: [nItems, ...hidden, 2 * latent], dec: [latent, ...[...hidden].reverse(), nItems], latent };
  }

  protected latentSize(nItems: number): number {
    return this.dims(nItems).latent;
  }

  protected outputWeight(nItems: number): string {
    return `decoder_${this.dims(nItems).dec.length - 2}_weight`;
  }

  protected stateShapes(_nUsers: number, nItems: number): Record<string, number[]> {
    const d = this.dims(nItems);
    const out: Record<string, number[]> = {};
    for (const [side, sizes] of [
      ['encoder', d.enc],
      ['decoder', d.dec],
    ] as const) {
      for (let l = 0; l + 1 < sizes.length; l++) {
        out[`${side}_${l}_weight`] = [sizes[l]!, sizes[l + 1]!];
        out[`${side}_${l}_bias`] = [sizes[l + 1]!];
      }
    }
    return out;
  }

  protected memoryNeed(data: Dataset): MemoryNeed {
    const nI = data.nItems;
    const d = this.dims(nI);
    let all = 0;
    let largest = 0;
    for (const shape of Object.values(this.stateShapes(data.nUsers, nI))) {
      const n = shape.reduce((a, b) => a * b, 1);
      all += n;
      largest = Math.max(largest, n);
    }
    const first = d.enc[0]! * d.enc[1]!; // the sparse bag: stays on the host
    const dense = all - first;
    const widths = [...d.enc.slice(1), ...d.dec].reduce((a, b) => a + b, 0);
    const b = Math.min(this.opt('batchSize'), Math.max(1, data.nUsers));
    const validation = this.opt('validation') > 0 ? all : 0;
    // Host: weights and moments, gradients read back, the batch's dense input and first layer.
    const host = 4 * (all * this.optimizerCopies() + 2 * dense + validation + b * nI + 2 * b * d.enc[1]!);
    // A step: the dense weights, their gradients, the input, logits, softmax and their gradients, the layers.
    const step = 4 * (3 * dense + 6 * b * nI + 4 * b * widths);
    const block = Math.min(Math.max(1, data.nUsers), Math.max(1, Math.min(1024, Math.floor(BLOCK / nI))));
    const score = 4 * (dense + 4 * block * nI + 2 * block * widths);
    return {
      host,
      tensors: Math.max(step, score),
      largest: Math.max(largest, b * nI, block * nI),
      detail: `layers ${[...d.enc, ...d.dec.slice(1)].join('-')}, batch ${b}`,
    };
  }

  /**
   * @internal (mu, logvar) of the encoder from the first layer's product x W0 (computed natively from the sparse input, see
   * ParamStore.bag): bias, tanh, then the remaining layers.
   */
  protected encodeLatent(tf: Tf, pre0: TF.Tensor2D, w: Weights, nItems: number): { mu: TF.Tensor2D; logvar: TF.Tensor2D } {
    const d = this.dims(nItems);
    const L = d.enc.length - 1;
    let h = tf.add<TF.Tensor2D>(pre0, w('encoder_0_bias'));
    for (let l = 1; l < L; l++) h = tf.add<TF.Tensor2D>(matMul(tf, tf.tanh(h), w(`encoder_${l}_weight`)), w(`encoder_${l}_bias`));
    const b = pre0.shape[0];
    return { mu: tf.slice(h, [0, 0], [b, d.latent]), logvar: tf.slice(h, [0, d.latent], [b, d.latent]) };
  }

  /** @internal */
  protected decodeLogits(tf: Tf, z: TF.Tensor2D, w: Weights, nItems: number): TF.Tensor2D {
    const L = this.dims(nItems).dec.length - 1;
    let h = z;
    for (let l = 0; l < L; l++) {
      h = tf.add<TF.Tensor2D>(matMul(tf, h, w(`decoder_${l}_weight`)), w(`decoder_${l}_bias`));
      if (l < L - 1) h = tf.tanh(h);
    }
    return h;
  }

  /** @internal */
  protected makeTrainer(tf: Tf, data: Dataset): Trainer {
    const nItems = data.nItems;
    const seed = this.params.seed ?? 42;
    const rng = new Rng(seed, 0);
    const l2 = this.params.l2 ?? 0;
    const w = new ParamStore();
    for (const [name, shape] of Object.entries(this.stateShapes(data.nUsers, nItems))) {
      // Glorot-uniform weights and N(0, 0.001^2) biases, the initialisation of the paper's code.
      if (name.endsWith('_weight')) w.add(name, { shape, l2, rows: name === 'encoder_0_weight' }, glorotUniform(shape[0]!, shape[1]!, rng));
      else w.add(name, { shape }, normal(shape[0]!, 0.001, rng));
    }
    const names = this.denseNames(nItems);
    const active = Int32Array.from({ length: data.nUsers }, (_, u) => u).filter((u) => data.csr.indptr[u + 1]! > data.csr.indptr[u]!);
    const bs = Math.min(this.opt('batchSize'), Math.max(1, active.length));
    const epochs = this.opt('epochs');
    const steps = Math.ceil(active.length / bs);
    const annealSteps = this.params.annealSteps ?? Math.max(1, epochs * steps);
    const cap = this.params.beta ?? 0.2;
    const dropout = this.params.dropout ?? 0.5;
    const opt: OptimizerConfig = { method: this.params.optimizer ?? 'adam', lr: this.opt('lr') };
    const threads = this.params.threads ?? 0;
    const latent = this.dims(nItems).latent;
    return {
      weights: w,
      epochs,
      epoch: (e) => {
        const order = active.slice();
        new Rng(seed, 1000 + e).shuffle(order);
        return {
          steps,
          step: (s) => {
            const users = order.subarray(s * bs, Math.min(order.length, (s + 1) * bs));
            const b = users.length;
            const t = w.steps; // updates so far: this step's beta and noise
            const { pre, entries } = this.firstLayer(w.get(BAG_WEIGHT), data.csr, users, { dropout, seed, epoch: t });
            const x = native(() => addon.denseRows(data.csr, users, { binary: true, ...NO_DROPOUT, normalize: false, threads }));
            const beta = cap * Math.min(1, t / annealSteps);
            w.tick();
            return tf.tidy(() => {
              const xt = tf.tensor2d(x, [b, nItems]);
              const eps = tf.randomNormal([b, latent], 0, 1, 'float32', (seed * 7919 + t) % 2147483647);
              const args = [tf.tensor2d(pre, [b, pre.length / b]), ...names.map((nm) => tf.tensor(w.get(nm), w.shape(nm)))];
              const f = (...a: TF.Tensor[]) => {
                const dense = new Map(names.map((nm, j) => [nm, a[j + 1]!]));
                const get = (nm: string) => dense.get(nm)!;
                const { mu, logvar } = this.encodeLatent(tf, a[0] as TF.Tensor2D, get, nItems);
                const z = tf.add<TF.Tensor2D>(mu, tf.mul(eps, tf.exp(tf.mul(0.5, logvar))));
                return multVaeLoss(tf, this.decodeLogits(tf, z, get, nItems), xt, mu, logvar, beta).loss;
              };
              const { value, grads } = tf.valueAndGrads(f)(args);
              const g = grads.map((gt) => gt.dataSync() as Float32Array);
              w.stepBag('encoder_0_weight', entries, g[0]!, opt);
              names.forEach((nm, j) => w.step(nm, g[j + 1]!, opt));
              return value.dataSync()[0]!;
            });
          },
        };
      },
    };
  }
}
