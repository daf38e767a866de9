// Neural collaborative filtering (He et al. 2017): GMF (an element-wise product of user and item embeddings
// weighted by a learned output layer), MLP (a ReLU tower over the concatenated embeddings) and NeuMF (both
// towers fused in one output layer, optionally initialised from separately pre-trained GMF and MLP). Trained on
// the pointwise log loss with `negatives` unseen items sampled per interaction and epoch (natively, seeded).
//
// Embedding tables live in host memory and take lazy (row-wise) Adam or SGD steps on the mini-batch's rows only,
// so a step costs O(batch x width) whatever the catalogue: catalogues of millions of users and items train at the
// same cost per example as ML-100K (memory: 3 floats per weight during the fit). Scoring every item for a user
// is one MLP pass per item, so full-catalogue evaluation and recommend() cost O(items x layer sizes) per user.
import type * as TF from '@tensorflow/tfjs';
import { RecsysError, argError, native } from '../../errors.js';
import type { Dataset } from '../../data/dataset.js';
import { addon } from '../../native.js';
import { Rng } from '../../rng.js';
import type { FitOptionsNative } from '../../native.js';
import { DeepRecommender, deepSpec, type DeepDefaults, type DeepParams, type MemoryNeed, type Trainer } from './base.js';
import { FLOAT_LIMIT, resolveParams, type ModelSpec, type ParamSpec } from '../params.js';
import type { Tf } from './backend.js';
import { pointwiseLogLoss } from './losses.js';
import { matMul, matMulT } from './ops.js';
import { ParamStore, glorotUniform, normal, type OptimizerConfig } from './params.js';
import type { ModelTask } from '../base.js';

export interface NcfParams extends DeepParams {
  /** GMF embedding size (the "predictive factors" of GMF). Default 32. */
  factors?: number;
  /**
   * MLP layer sizes: the first is the width of the concatenated user and item embeddings (each gets half), the
   * rest are the ReLU layers. Default [32, 16, 8] (16-wide embeddings, two ReLU layers, 8 predictive factors).
   */
  layers?: number[];
  /** Sampled unseen items per interaction and epoch. Default 4. */
  negatives?: number;
  /** L2 on the embedding rows of each mini-batch (lazy: the rows a step touches). Default 3e-5. */
  l2?: number;
}

export interface NeuMFParams extends NcfParams {
  /**
   * Pre-train GMF and MLP separately and start NeuMF from their weights (He et al. 2017, section 3.4.1), the
   * output layer being [alpha h_GMF, (1 - alpha) h_MLP]. The fused model then trains with `optimizer`
   * (the paper uses SGD there). Default false.
   */
  pretrain?: boolean;
  /** Epochs of each pre-training. Default: epochs. */
  pretrainEpochs?: number;
  /** Weight of GMF in the pre-trained output layer. Default 0.5. */
  alpha?: number;
}

const ncfSpec: Readonly<Record<string, ParamSpec>> = {
  ...deepSpec,
  factors: { int: [1, 2 ** 31 - 1] },
  layers: { intList: [1, 2 ** 31 - 1], minLength: 2 },
  negatives: { int: [1, 1000] },
  l2: { real: [0, FLOAT_LIMIT] },
};
const neuMFSpec: ModelSpec = {
  params: { ...ncfSpec, pretrain: { bool: true }, pretrainEpochs: { int: [1, 1_000_000] }, alpha: { real: [0, 1] } },
};

interface Towers {
  gmf: boolean;
  mlp: boolean;
}

interface NcfShape {
  fG: number;
  dM: number;
  width: number;
  hidden: number[]; // sizes of the MLP's ReLU layers
}

const DENSE_BLOCK = 2 ** 22; // floats per intermediate tensor while scoring
// Floats of embedding rows per part of a training step: a batch of wider rows is computed in parts (the same
// gradient), yielding between them so that a cancelled fitAsync stops within one part.
export const _ncfLimits = { stepPart: 2 ** 18 };

abstract class NcfBase<P extends NcfParams> extends DeepRecommender<P> {
  protected abstract readonly towers: Towers;

  constructor(params: P) {
    super(params);
    const p = params;
    if (p.factors !== undefined && (!Number.isInteger(p.factors) || p.factors < 1)) throw argError(`factors must be an integer >= 1, got ${p.factors}`);
    if (p.layers !== undefined) {
      if (!Array.isArray(p.layers) || p.layers.length < 2)
        throw argError('layers must list at least two sizes (embedding width, then one or more hidden layers)');
      for (const l of p.layers) if (!Number.isInteger(l) || l < 1) throw argError(`layers must be integers >= 1, got ${String(l)}`);
      if (p.layers[0]! % 2 !== 0) throw argError(`layers[0] (the concatenated embedding width) must be even, got ${p.layers[0]}`);
    }
    if (p.negatives !== undefined && (!Number.isInteger(p.negatives) || p.negatives < 1 || p.negatives > 1000))
      throw argError(`negatives must be an integer in [1, 1000], got ${p.negatives}`);
    if (p.l2 !== undefined && !(typeof p.l2 === 'number' && p.l2 >= 0 && Number.isFinite(p.l2)))
      throw argError(`l2 must be a number >= 0, got ${String(p.l2)}`);
  }

  protected defaults(): DeepDefaults {
    // Chosen on ML-100K (MS Recommenders split, bench/deep.ts): NDCG@10 0.43 in about 15 epochs.
    return { epochs: 15, batchSize: 512, lr: 0.001, validation: 0, patience: 5 };
  }

  protected ncfShape(towers: Towers): NcfShape {
    const fG = towers.gmf ? (this.params.factors ?? 32) : 0;
    const layers = this.params.layers ?? [32, 16, 8];
    const dM = towers.mlp ? layers[0]! / 2 : 0;
    return { fG, dM, width: fG + dM, hidden: towers.mlp ? layers.slice(1) : [] };
  }

  /** The shape read back from the weights (so scoring works for any tower set). */
  protected shapeOf(w: ParamStore): NcfShape {
    const width = w.shape('user_embedding')[1]!;
    const hidden: number[] = [];
    for (let l = 0; w.has(`mlp_${l}_weight`); l++) hidden.push(w.shape(`mlp_${l}_weight`)[1]!);
    const dM = hidden.length ? w.shape('mlp_0_weight')[0]! / 2 : 0;
    return { fG: width - dM, dM, width, hidden };
  }

  protected denseNames(s: NcfShape): string[] {
    const names: string[] = [];
    s.hidden.forEach((_, l) => names.push(`mlp_${l}_weight`, `mlp_${l}_bias`));
    names.push('output_weight', 'output_bias');
    return names;
  }

  protected stateShapes(nUsers: number, nItems: number): Record<string, number[]> {
    return this.shapesFor(this.towers, nUsers, nItems);
  }

  protected shapesFor(towers: Towers, nUsers: number, nItems: number): Record<string, number[]> {
    const s = this.ncfShape(towers);
    const shapes: Record<string, number[]> = { user_embedding: [nUsers, s.width], item_embedding: [nItems, s.width] };
    let prev = 2 * s.dM;
    s.hidden.forEach((h, l) => {
      shapes[`mlp_${l}_weight`] = [prev, h];
      shapes[`mlp_${l}_bias`] = [h];
      prev = h;
    });
    shapes['output_weight'] = [s.fG + (s.hidden.length ? prev : 0), 1];
    shapes['output_bias'] = [1];
    return shapes;
  }

  protected memoryNeed(data: Dataset): MemoryNeed {
    const s = this.ncfShape(this.towers);
    const nU = data.nUsers;
    const nI = data.nItems;
    const shapes = this.shapesFor(this.towers, nU, nI);
    let dense = 0;
    let largestDense = 0;
    for (const name of this.denseNames(s)) {
      const n = shapes[name]!.reduce((a, b) => a * b, 1);
      dense += n;
      largestDense = Math.max(largestDense, n);
    }
    const table = (nU + nI) * s.width;
    const examples = data.nnz * (1 + (this.params.negatives ?? 4));
    const B = Math.min(this.opt('batchSize'), Math.max(1, examples));
    const h1 = s.hidden[0] ?? 1;
    const hsum = s.hidden.reduce((a, b) => a + b, 0);
    // Pre-training keeps GMF's and MLP's weights (with moments) beside NeuMF's own.
    const copies = this.optimizerCopies() * ((this.params as NeuMFParams).pretrain ? 2 : 1);
    const validation = this.opt('validation') > 0 ? table + dense : 0; // the best epoch's snapshot
    const host = 4 * (table * copies + dense * (this.optimizerCopies() + 2) + validation + 3 * examples + 4 * B * s.width);
    // A step: the batch's rows, their slices and product, the MLP's activations, gradients; dense weights x 3.
    const step = 4 * (8 * B * s.width + 4 * B * hsum + 3 * dense);
    // Scoring (recommend, validation): the item table and the item side of the first layer, then blocks of users.
    const block = Math.min(nU, Math.max(1, Math.floor(DENSE_BLOCK / (nI * h1)))) * nI * h1;
    const score = 4 * (nI * (s.width + s.fG + s.dM) + (s.hidden.length ? nI * h1 : 0) + 4 * block + dense);
    return {
      host,
      tensors: Math.max(step, score),
      largest: Math.max(nU * s.width, nI * s.width, B * s.width, block, largestDense),
      detail: `embeddings (${nU} + ${nI}) x ${s.width}${s.hidden.length ? `, layers ${[2 * s.dM, ...s.hidden].join('-')}` : ''}, batch ${B}`,
    };
  }

  /** Fresh weights: embeddings N(0, 0.01^2) as in the paper, dense layers Glorot-uniform, biases zero. */
  protected initWeights(towers: Towers, nUsers: number, nItems: number, stream: number): ParamStore {
    const rng = new Rng(this.params.seed ?? 42, stream);
    const s = this.ncfShape(towers);
    const l2 = this.params.l2 ?? 3e-5;
    const w = new ParamStore();
    const shapes = this.shapesFor(towers, nUsers, nItems);
    w.add('user_embedding', { shape: shapes.user_embedding!, rows: true, l2 }, normal(nUsers * s.width, 0.01, rng));
    w.add('item_embedding', { shape: shapes.item_embedding!, rows: true, l2 }, normal(nItems * s.width, 0.01, rng));
    for (const name of this.denseNames(s)) {
      const shape = shapes[name]!;
      const data = name.endsWith('_bias') ? new Float32Array(shape[0]!) : glorotUniform(shape[0]!, shape[1]!, rng);
      w.add(name, { shape }, data);
    }
    return w;
  }

  /** @internal Logits of (user row, item row) pairs from gathered embedding rows and the dense weights (in denseNames order). */
  protected logits(tf: Tf, s: NcfShape, pu: TF.Tensor2D, qi: TF.Tensor2D, dense: TF.Tensor[]): TF.Tensor1D {
    const b = pu.shape[0];
    const parts: TF.Tensor2D[] = [];
    if (s.fG > 0) parts.push(tf.mul(tf.slice(pu, [0, 0], [b, s.fG]), tf.slice(qi, [0, 0], [b, s.fG])));
    if (s.hidden.length > 0) {
      let x: TF.Tensor2D = tf.concat([tf.slice(pu, [0, s.fG], [b, s.dM]), tf.slice(qi, [0, s.fG], [b, s.dM])], 1);
      for (let l = 0; l < s.hidden.length; l++) x = tf.relu(tf.add(matMul(tf, x, dense[2 * l]!), dense[2 * l + 1]!)) as TF.Tensor2D;
      parts.push(x);
    }
    const h = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    const o = 2 * s.hidden.length;
    return tf.reshape(tf.add(matMul(tf, h, dense[o]!), dense[o + 1]!), [b]);
  }

  protected optimizerConfig(method?: 'adam' | 'sgd'): OptimizerConfig {
    return { method: method ?? this.params.optimizer ?? 'adam', lr: this.opt('lr') };
  }

  /** @internal Epochs of pointwise training of weights w (of any tower set). */
  protected ncfTrainer(tf: Tf, data: Dataset, w: ParamStore, epochs: number, opt: OptimizerConfig, stream: number): Trainer {
    const s = this.shapeOf(w);
    const names = this.denseNames(s);
    const bs = this.opt('batchSize');
    const negatives = this.params.negatives ?? 4;
    const seed = this.params.seed ?? 42;
    const threads = this.params.threads ?? 0;
    return {
      weights: w,
      epochs,
      epoch: (e) => {
        const ep = native(() => addon.sampleEpoch(data.csr, { negatives, seed: seed + stream, epoch: e, shuffle: true, threads }));
        const n = ep.users.length;
        return {
          steps: Math.ceil(n / bs),
          step: (st) => {
            const lo = st * bs;
            const hi = Math.min(n, lo + bs);
            const users = ep.users.subarray(lo, hi);
            const items = ep.items.subarray(lo, hi);
            const b = hi - lo;
            if (b * s.width > _ncfLimits.stepPart) return this.stepInParts(tf, w, s, names, users, items, ep.labels.subarray(lo, hi), opt);
            const pu = w.gather('user_embedding', users);
            const qi = w.gather('item_embedding', items);
            w.tick();
            return tf.tidy(() => {
              const y = tf.tensor1d(ep.labels.subarray(lo, hi));
              const args = [tf.tensor2d(pu, [b, s.width]), tf.tensor2d(qi, [b, s.width]), ...names.map((nm) => tf.tensor(w.get(nm), w.shape(nm)))];
              const f = (...a: TF.Tensor[]) => pointwiseLogLoss(tf, this.logits(tf, s, a[0] as TF.Tensor2D, a[1] as TF.Tensor2D, a.slice(2)), y);
              const { value, grads } = tf.valueAndGrads(f)(args);
              const g = grads.map((t) => t.dataSync() as Float32Array);
              w.stepRows('user_embedding', users, g[0]!, opt);
              w.stepRows('item_embedding', items, g[1]!, opt);
              names.forEach((nm, j) => w.step(nm, g[2 + j]!, opt));
              return value.dataSync()[0]!;
            });
          },
        };
      },
    };
  }

  /**
   * One optimizer step over a batch whose rows are too wide to handle at once: the loss and gradients of parts of
   * the batch, each part's weighted by its share (the mean over the batch is the weighted mean over parts);
   * repeated rows' gradients summed (as optimizerRowsStep does), so that the rows' updates can go in parts too.
   */
  private *stepInParts(
    tf: Tf,
    w: ParamStore,
    s: NcfShape,
    names: string[],
    users: Int32Array,
    items: Int32Array,
    labels: Float32Array,
    opt: OptimizerConfig,
  ): Generator<void, number, void> {
    const b = users.length;
    const W = s.width;
    const part = Math.max(1, Math.floor(_ncfLimits.stepPart / W));
    const tables = [
      { name: 'user_embedding', rows: users, slot: new Map<number, number>(), unique: [] as number[], grad: new Float32Array(0) },
      { name: 'item_embedding', rows: items, slot: new Map<number, number>(), unique: [] as number[], grad: new Float32Array(0) },
    ];
    for (const t of tables) {
      for (const r of t.rows) if (!t.slot.has(r)) t.slot.set(r, t.unique.push(r) - 1);
      t.grad = new Float32Array(t.unique.length * W);
    }
    const dense = names.map((nm) => new Float32Array(w.get(nm).length));
    let loss = 0;
    for (let a = 0; a < b; a += part) {
      const e = Math.min(b, a + part);
      const n = e - a;
      const share = n / b;
      const pu = w.gather('user_embedding', users.subarray(a, e));
      const qi = w.gather('item_embedding', items.subarray(a, e));
      loss +=
        share *
        tf.tidy(() => {
          const y = tf.tensor1d(labels.subarray(a, e));
          const args = [tf.tensor2d(pu, [n, W]), tf.tensor2d(qi, [n, W]), ...names.map((nm) => tf.tensor(w.get(nm), w.shape(nm)))];
          const f = (...x: TF.Tensor[]) => pointwiseLogLoss(tf, this.logits(tf, s, x[0] as TF.Tensor2D, x[1] as TF.Tensor2D, x.slice(2)), y);
          const { value, grads } = tf.valueAndGrads(f)(args);
          const g = grads.map((t) => t.dataSync() as Float32Array);
          tables.forEach((t, k) => {
            const src = g[k]!;
            for (let p = 0; p < n; p++) {
              const dst = t.slot.get(t.rows[a + p]!)! * W;
              for (let d = 0; d < W; d++) t.grad[dst + d]! += share * src[p * W + d]!;
            }
          });
          dense.forEach((acc, j) => {
            const src = g[2 + j]!;
            for (let d = 0; d < acc.length; d++) acc[d]! += share * src[d]!;
          });
          return value.dataSync()[0]!;
        });
      yield;
    }
    w.tick();
    for (const t of tables) {
      const rows = Int32Array.from(t.unique);
      for (let r0 = 0; r0 < rows.length; r0 += part) {
        const r1 = Math.min(rows.length, r0 + part);
        w.stepRows(t.name, rows.subarray(r0, r1), t.grad.subarray(r0 * W, r1 * W), opt);
        yield;
      }
    }
    names.forEach((nm, j) => w.step(nm, dense[j]!, opt));
    return loss;
  }

  /** @internal */
  protected makeTrainer(tf: Tf, data: Dataset): Trainer {
    const w = this.initWeights(this.towers, data.nUsers, data.nItems, 0);
    return this.ncfTrainer(tf, data, w, this.opt('epochs'), this.optimizerConfig(), 0);
  }

  /** @internal */
  protected scoreRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array): Float32Array {
    const s = this.shapeOf(w);
    const nI = data.nItems;
    const out = new Float32Array(users.length * nI);
    const names = this.denseNames(s);
    const h1 = s.hidden[0] ?? 1;
    const block = Math.max(1, Math.floor(DENSE_BLOCK / (nI * h1)));
    tf.tidy(() => {
      const dense = names.map((nm) => tf.tensor(w.get(nm), w.shape(nm)));
      const o = 2 * s.hidden.length;
      const outW = dense[o] as TF.Tensor2D;
      const Q = tf.tensor2d(w.get('item_embedding'), [nI, s.width]);
      // Item side of the first MLP layer, once for all users: [q_M W1_item + b1].
      const B = s.hidden.length
        ? tf.add(tf.matMul(tf.slice(Q, [0, s.fG], [nI, s.dM]), tf.slice(dense[0] as TF.Tensor2D, [s.dM, 0], [s.dM, h1])), dense[1]!)
        : undefined;
      const QG = s.fG ? tf.slice(Q, [0, 0], [nI, s.fG]) : undefined;
      const hG = s.fG ? tf.reshape(tf.slice(outW, [0, 0], [s.fG, 1]), [1, s.fG]) : undefined;
      for (let b0 = 0; b0 < users.length; b0 += block) {
        const part = users.subarray(b0, b0 + block);
        const b = part.length;
        const scores = tf.tidy(() => {
          const P = tf.tensor2d(w.gather('user_embedding', part), [b, s.width]);
          let z: TF.Tensor2D = tf.add(tf.zeros([b, nI]), tf.reshape(dense[o + 1]!, [1, 1])) as TF.Tensor2D;
          if (QG && hG) z = tf.add(z, matMulT(tf, tf.mul(tf.slice(P, [0, 0], [b, s.fG]), hG), QG));
          if (B) {
            const A = tf.matMul(tf.slice(P, [0, s.fG], [b, s.dM]), tf.slice(dense[0] as TF.Tensor2D, [0, 0], [s.dM, h1]));
            let x: TF.Tensor2D = tf.reshape(tf.relu(tf.add(tf.reshape(A, [b, 1, h1]), tf.reshape(B, [1, nI, h1]))), [b * nI, h1]);
            for (let l = 1; l < s.hidden.length; l++) x = tf.relu(tf.add(tf.matMul(x, dense[2 * l] as TF.Tensor2D), dense[2 * l + 1]!)) as TF.Tensor2D;
            const hM = tf.slice(outW, [s.fG, 0], [s.hidden[s.hidden.length - 1]!, 1]);
            z = tf.add(z, tf.reshape(tf.matMul(x, hM), [b, nI]));
          }
          return z;
        });
        out.set(scores.dataSync() as Float32Array, b0 * nI);
        scores.dispose();
      }
    });
    return out;
  }

  /** @internal */
  protected override predictRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array, items: Int32Array): Float32Array {
    const s = this.shapeOf(w);
    const names = this.denseNames(s);
    const out = new Float32Array(users.length);
    const bs = 65536;
    const valid = (a: Int32Array, n: number) => Int32Array.from(a, (v) => (v >= 0 && v < n ? v : -1));
    tf.tidy(() => {
      const dense = names.map((nm) => tf.tensor(w.get(nm), w.shape(nm)));
      for (let b0 = 0; b0 < users.length; b0 += bs) {
        const u = valid(users.subarray(b0, b0 + bs), data.nUsers);
        const i = valid(items.subarray(b0, b0 + bs), data.nItems);
        const z = tf.tidy(() =>
          this.logits(
            tf,
            s,
            tf.tensor2d(w.gather('user_embedding', u), [u.length, s.width]),
            tf.tensor2d(w.gather('item_embedding', i), [i.length, s.width]),
            dense,
          ),
        );
        out.set(z.dataSync() as Float32Array, b0);
        z.dispose();
      }
    });
    return out;
  }

  protected override itemVectors(w: ParamStore): { data: Float32Array; dim: number } {
    return { data: w.get('item_embedding'), dim: w.shape('item_embedding')[1]! };
  }

  /** @internal */
  protected override userVectors(_tf: Tf, w: ParamStore): { data: Float32Array; dim: number } {
    return { data: w.get('user_embedding'), dim: w.shape('user_embedding')[1]! };
  }
}

/**
 * Generalized matrix factorization (NCF's GMF): score = h . (p_u * q_i) + b, trained on the pointwise log loss
 * with sampled negatives. Scores are logits (higher = more likely); predict() returns the same logit.
 */
export class GMF extends NcfBase<NcfParams> {
  readonly name: string = 'GMF';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  protected readonly towers: Towers = { gmf: true, mlp: false };
  constructor(params: NcfParams = {}) {
    super(resolveParams('GMF', params, { params: ncfSpec }));
  }
}

/** NCF's MLP tower alone: ReLU layers over [p_u, q_i], then a logit. */
export class MLP extends NcfBase<NcfParams> {
  readonly name: string = 'MLP';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  protected readonly towers: Towers = { gmf: false, mlp: true };
  constructor(params: NcfParams = {}) {
    super(resolveParams('MLP', params, { params: ncfSpec }));
  }
}

/**
 * Neural matrix factorization (He et al. 2017): GMF and MLP towers with separate embeddings, concatenated into
 * one output layer; pointwise log loss with `negatives` sampled unseen items per interaction. Scores are logits.
 * Fold-in of new users is not supported (it would need training); similarItems / similarUsers use the
 * concatenated embeddings (cosine).
 */
export class NeuMF extends NcfBase<NeuMFParams> {
  readonly name: string = 'NeuMF';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  protected readonly towers: Towers = { gmf: true, mlp: true };
  constructor(params: NeuMFParams = {}) {
    super(resolveParams('NeuMF', params, neuMFSpec));
    const p = params;
    if (p.pretrain !== undefined && typeof p.pretrain !== 'boolean') throw argError('pretrain must be a boolean');
    if (p.pretrainEpochs !== undefined && (!Number.isInteger(p.pretrainEpochs) || p.pretrainEpochs < 1))
      throw argError(`pretrainEpochs must be an integer >= 1, got ${p.pretrainEpochs}`);
    if (p.alpha !== undefined && !(typeof p.alpha === 'number' && p.alpha >= 0 && p.alpha <= 1))
      throw argError(`alpha must be in [0, 1], got ${String(p.alpha)}`);
  }

  /** @internal */
  protected override *fitSteps(tf: Tf, train: Dataset, run: FitOptionsNative): Generator<void, void, void> {
    if (!this.params.pretrain) {
      yield* super.fitSteps(tf, train, run);
      return;
    }
    const v = this.opt('validation');
    let fitPart = train;
    let valid: Dataset | undefined;
    if (v > 0) ({ fitPart, valid } = this.validationSplit(train, v));
    const t0 = performance.now();
    const pe = this.params.pretrainEpochs ?? this.opt('epochs');
    const adam = this.optimizerConfig('adam');
    const g = this.initWeights({ gmf: true, mlp: false }, fitPart.nUsers, fitPart.nItems, 1);
    yield* this.runEpochs(tf, this.ncfTrainer(tf, fitPart, g, pe, adam, 1), { fitPart, valid, run, t0, phase: 'pretrain-gmf' });
    const m = this.initWeights({ gmf: false, mlp: true }, fitPart.nUsers, fitPart.nItems, 2);
    yield* this.runEpochs(tf, this.ncfTrainer(tf, fitPart, m, pe, adam, 2), { fitPart, valid, run, t0, phase: 'pretrain-mlp' });
    const w = this.fuse(g, m, fitPart.nUsers, fitPart.nItems);
    const trainer = this.ncfTrainer(tf, fitPart, w, this.opt('epochs'), this.optimizerConfig(this.params.optimizer ?? 'sgd'), 0);
    yield* this.runEpochs(tf, trainer, { fitPart, valid, run, t0, phase: 'epoch' });
    this.setFitResult(trainer.weights);
  }

  /** NeuMF weights from pre-trained GMF and MLP: embeddings side by side, output layer [alpha h_G; (1-alpha) h_M]. */
  private fuse(g: ParamStore, m: ParamStore, nUsers: number, nItems: number): ParamStore {
    const alpha = this.params.alpha ?? 0.5;
    const s = this.ncfShape(this.towers);
    const shapes = this.stateShapes(nUsers, nItems);
    const w = new ParamStore();
    const l2 = this.params.l2 ?? 3e-5;
    for (const [name, n] of [
      ['user_embedding', nUsers],
      ['item_embedding', nItems],
    ] as const) {
      const t = new Float32Array(n * s.width);
      const a = g.get(name);
      const b = m.get(name);
      for (let r = 0; r < n; r++) {
        t.set(a.subarray(r * s.fG, (r + 1) * s.fG), r * s.width);
        t.set(b.subarray(r * s.dM, (r + 1) * s.dM), r * s.width + s.fG);
      }
      w.add(name, { shape: shapes[name]!, rows: true, l2 }, t);
    }
    for (const name of this.denseNames(s)) {
      if (name.startsWith('mlp_')) w.add(name, { shape: shapes[name]! }, m.get(name).slice());
    }
    const hG = g.get('output_weight');
    const hM = m.get('output_weight');
    const out = new Float32Array(hG.length + hM.length);
    for (let j = 0; j < hG.length; j++) out[j] = alpha * hG[j]!;
    for (let j = 0; j < hM.length; j++) out[hG.length + j] = (1 - alpha) * hM[j]!;
    w.add('output_weight', { shape: shapes['output_weight']! }, out);
    w.add('output_bias', { shape: [1] }, Float32Array.of(alpha * g.get('output_bias')[0]! + (1 - alpha) * m.get('output_bias')[0]!));
    if (out.length !== shapes['output_weight']![0]) throw new RecsysError('E_STATE', 'pre-trained towers do not match NeuMF');
    return w;
  }
}
