// I-AutoRec (Sedhain et al. 2015, "AutoRec: Autoencoders Meet Collaborative Filtering"): each item's vector of
// ratings over users is encoded to a hidden code h = sigmoid(V r + mu) and decoded back, r_hat = W h + b; the loss
// is the squared error over the observed ratings only, plus L2 on V and W. The prediction for (u, i) is entry u
// of item i's reconstruction.
//
// Both sides are computed sparsely, which is the same objective: V r sums the rows of V (one per user) weighted
// by the item's ratings (a native "embedding bag"), and the decoder is evaluated only at observed entries (a dot
// product of h with user u's decoder row). A step costs O(ratings in the batch x hidden); V, W and the decoder
// biases take lazy Adam steps on the users of the batch, so L2 is applied to the rows a step touches. Fitting
// scales with the number of ratings (ML-1M, ML-10M sized data train on a CPU); scoring every item for a user is
// one hidden-size dot product per item. Pairs the model cannot score (a user or item without training ratings)
// take BaselineOnly's prediction (global mean + biases, Koren 2010), as Surprise's models fall back to.
import type * as TF from '@tensorflow/tfjs';
import { RecsysError, argError, native } from '../../errors.js';
import type { Dataset } from '../../data/dataset.js';
import type { IdMap } from '../../data/idmap.js';
import { randomSplit } from '../../data/split.js';
import { evaluate } from '../../eval/evaluate.js';
import { addon, type DenseRowsOptions } from '../../native.js';
import { Rng } from '../../rng.js';
import { BaselineOnly } from '../baseline.js';
import {
  DeepRecommender,
  deepSpec,
  type DeepDefaults,
  type DeepParams,
  type MemoryNeed,
  type StateTensors,
  type Trainer,
  type ValidationResult,
} from './base.js';
import { FLOAT_LIMIT, resolveParams, type ModelSpec } from '../params.js';
import { tfSync, type Tf } from './backend.js';
import { maskedSquaredError } from './losses.js';
import { matMulT } from './ops.js';
import { ParamStore, glorotUniform, type OptimizerConfig } from './params.js';
import type { ModelTask } from '../base.js';

export interface AutoRecParams extends DeepParams {
  /** Hidden units. Default 500 (the paper's). */
  hidden?: number;
  /** L2 on the encoder and decoder rows a step touches. Default 0.1. */
  l2?: number;
}

const spec: ModelSpec = { params: { ...deepSpec, hidden: { int: [1, 2 ** 31 - 1] }, l2: { real: [0, FLOAT_LIMIT] } } };

const iota = (n: number) => Int32Array.from({ length: n }, (_, j) => j);
const ones = (n: number) => new Float32Array(n).fill(1);

interface Codes {
  data: Dataset;
  w: ParamStore;
  H: Float32Array; // items x hidden
}

/**
 * Item-based AutoRec for rating prediction. predict() gives ratings clipped to the training data's range;
 * rankings (recommend, ranking metrics) use the same predicted ratings. No fold-in of new users.
 */
/** csrRows' options for an item's ratings as stored: no binarizing, normalizing or dropout (seed and epoch unused). */
const AS_STORED: DenseRowsOptions = { binary: false, normalize: false, dropout: 0, seed: 0, epoch: 0 };

export class AutoRec extends DeepRecommender<AutoRecParams> {
  readonly name: string = 'AutoRec';
  readonly tasks: readonly ModelTask[] = ['rating'];
  private codes?: Codes;

  constructor(params: AutoRecParams = {}) {
    super(resolveParams('AutoRec', params, spec));
    const p = params;
    if (p.hidden !== undefined && (!Number.isInteger(p.hidden) || p.hidden < 1)) throw argError(`hidden must be an integer >= 1, got ${p.hidden}`);
    if (p.l2 !== undefined && !(typeof p.l2 === 'number' && p.l2 >= 0 && Number.isFinite(p.l2)))
      throw argError(`l2 must be a number >= 0, got ${String(p.l2)}`);
  }

  protected defaults(): DeepDefaults {
    // Chosen on ML-100K (one KFold fold, 5% of its training ratings held out): the validation RMSE bottoms out
    // near epoch 30 at this rate and L2.
    return { epochs: 30, batchSize: 32, lr: 0.0005, validation: 0, patience: 5 };
  }

  protected stateShapes(nUsers: number, nItems: number): Record<string, number[]> {
    const h = this.params.hidden ?? 500;
    return {
      encoder_weight: [nUsers, h],
      encoder_bias: [h],
      decoder_weight: [nUsers, h],
      decoder_bias: [nUsers],
      baseline_global: [1],
      baseline_user: [nUsers],
      baseline_item: [nItems],
      rating_range: [2],
    };
  }

  protected memoryNeed(data: Dataset): MemoryNeed {
    const h = this.params.hidden ?? 500;
    const nU = data.nUsers;
    const nI = data.nItems;
    const all = 2 * nU * h + h + 2 * nU + nI + 3;
    // Ratings of the batch's items: at most those of the batchSize most-rated items.
    const cp = data.csc.indptr;
    const deg = Int32Array.from({ length: nI }, (_, i) => cp[i + 1]! - cp[i]!).sort();
    const b = Math.min(this.opt('batchSize'), Math.max(1, nI));
    let nE = 0;
    for (let j = nI - 1; j >= 0 && j >= nI - b; j--) nE += deg[j]!;
    const validation = this.opt('validation') > 0 ? all : 0;
    // Host: weights and moments, the batch's gathered rows and their gradients, the items' codes.
    const host = 4 * (all * this.optimizerCopies() + validation + 6 * nE * h + 3 * b * h + 2 * nI * h);
    const step = 4 * (8 * nE * h + 4 * b * h);
    const rows = Math.min(Math.max(1, nU), Math.max(1, Math.min(1024, Math.floor(2 ** 22 / Math.max(1, nI)))));
    const score = 4 * (3 * nI * h + rows * h + 2 * rows * nI);
    return {
      host,
      tensors: Math.max(step, score),
      largest: Math.max(nU * h, nE * h, nI * h, rows * nI),
      detail: `encoder and decoder ${nU} x ${h} each, ${nE} ratings per batch`,
    };
  }

  /** @internal */
  protected makeTrainer(tf: Tf, data: Dataset, full: Dataset): Trainer {
    if (!full.hasRatings) throw argError('AutoRec needs ratings: the training data has none');
    const h = this.params.hidden ?? 500;
    const seed = this.params.seed ?? 42;
    const rng = new Rng(seed, 0);
    const l2 = this.params.l2 ?? 0.1;
    const nU = data.nUsers;
    const w = new ParamStore();
    w.add('encoder_weight', { shape: [nU, h], rows: true, l2 }, glorotUniform(nU, h, rng));
    w.add('encoder_bias', { shape: [h] }, new Float32Array(h));
    w.add('decoder_weight', { shape: [nU, h], rows: true, l2 }, glorotUniform(h, nU, rng));
    w.add('decoder_bias', { shape: [nU], rows: true }, new Float32Array(nU));
    // Fallback for pairs without training data, from the whole training set.
    const base = new BaselineOnly({ threads: this.params.threads }).fit(full).nativeModel.state();
    w.add('baseline_global', { shape: [1] }, Float32Array.from(base.global_bias!.data));
    w.add('baseline_user', { shape: [nU] }, Float32Array.from(base.user_bias!.data));
    w.add('baseline_item', { shape: [data.nItems] }, Float32Array.from(base.item_bias!.data));
    const st = full.stats();
    w.add('rating_range', { shape: [2] }, Float32Array.of(st.ratingMin!, st.ratingMax!));

    const csc = data.csc;
    const active = Int32Array.from({ length: data.nItems }, (_, i) => i).filter((i) => csc.indptr[i + 1]! > csc.indptr[i]!);
    const bs = this.opt('batchSize');
    const opt: OptimizerConfig = { method: this.params.optimizer ?? 'adam', lr: this.opt('lr') };
    return {
      weights: w,
      epochs: this.opt('epochs'),
      epoch: (e) => {
        const order = active.slice();
        new Rng(seed, 1000 + e).shuffle(order);
        return {
          steps: Math.ceil(order.length / bs),
          step: (s) => {
            const items = order.subarray(s * bs, Math.min(order.length, (s + 1) * bs));
            const b = items.length;
            const entries = native(() => addon.csrRows(csc, items, AS_STORED));
            const nE = entries.indices.length;
            const pre = w.bag('encoder_weight', entries, b);
            const Wg = w.gather('decoder_weight', entries.indices);
            const bg = w.gather('decoder_bias', entries.indices);
            w.tick();
            // The graph is cut at the gather of each entry's item code: TensorFlow.js's wasm backend has no kernel
            // for the gather's gradient (UnsortedSegmentSum), so the gather and its transpose (a scatter-add, the
            // bag with unit weights) run natively and the chain rule joins the two parts through dy.
            return tf.tidy(() => {
              const preT = tf.tensor2d(pre, [b, h]);
              const biasT = tf.tensor1d(w.get('encoder_bias'));
              const encode = (x: TF.Tensor, bias: TF.Tensor) => tf.sigmoid(tf.add(x, bias));
              const hid = encode(preT, biasT).dataSync() as Float32Array;
              const hg = native(() => addon.gatherRows(hid, h, entries.rowOf));
              const target = tf.tensor1d(entries.values);
              const decode = (...a: TF.Tensor[]) => maskedSquaredError(tf, tf.add(tf.sum(tf.mul(a[0]!, a[1]!), 1), a[2]!), target, b);
              const { value, grads } = tf.valueAndGrads(decode)([tf.tensor2d(hg, [nE, h]), tf.tensor2d(Wg, [nE, h]), tf.tensor1d(bg)]);
              const dhg = grads[0]!.dataSync() as Float32Array;
              const dHid = native(() => addon.embeddingBag(dhg, h, { rowOf: entries.rowOf, indices: iota(nE), values: ones(nE) }, b));
              const [dPre, dBias] = tf
                .grads(encode)([preT, biasT], tf.tensor2d(dHid, [b, h]))
                .map((t) => t.dataSync() as Float32Array);
              const dWg = grads[1]!.dataSync() as Float32Array;
              const dbg = grads[2]!.dataSync() as Float32Array;
              w.stepBag('encoder_weight', entries, dPre!, opt);
              w.step('encoder_bias', dBias!, opt);
              w.stepRows('decoder_weight', entries.indices, dWg, opt);
              w.stepRows('decoder_bias', entries.indices, dbg, opt);
              return value.dataSync()[0]!;
            });
          },
        };
      },
    };
  }

  protected override validationSplit(train: Dataset, fraction: number): { fitPart: Dataset; valid: Dataset } {
    const s = randomSplit(train, { testFraction: fraction, seed: this.params.seed ?? 42 });
    return { fitPart: s.train, valid: s.test };
  }

  /** @internal */
  protected override validate(tf: Tf, w: ParamStore, fitPart: Dataset, valid: Dataset): ValidationResult {
    const r = evaluate(
      { trainData: fitPart, scoreUsersDense: (u) => this.scoreRows(tf, w, fitPart, u), predictDense: (u, i) => this.predictRows(tf, w, fitPart, u, i) },
      valid,
      { metrics: ['rmse'] },
    );
    return { metric: 'rmse', value: r.rmse!, higherIsBetter: false };
  }

  /** Hidden codes of every item from its training ratings (items x hidden). */
  private itemCodes(tf: Tf, w: ParamStore, data: Dataset): Float32Array {
    if (this.codes && this.codes.w === w && this.codes.data === data) return this.codes.H;
    const h = w.shape('encoder_bias')[0]!;
    const all = Int32Array.from({ length: data.nItems }, (_, i) => i);
    const entries = native(() => addon.csrRows(data.csc, all, AS_STORED));
    const pre = w.bag('encoder_weight', entries, data.nItems);
    const H = tf.tidy(() => tf.sigmoid(tf.add(tf.tensor2d(pre, [data.nItems, h]), tf.tensor1d(w.get('encoder_bias')))).dataSync() as Float32Array);
    return Float32Array.from(H);
  }

  protected override afterFit(train: Dataset): void {
    this.codes = undefined;
    const w = this.weights!;
    this.codes = { data: train, w, H: this.itemCodes(tfSync(), w, train) };
  }

  /** Which users and items have training ratings in `data` (the others take the baseline). */
  private known(data: Dataset): { users: Uint8Array; items: Uint8Array } {
    const users = new Uint8Array(data.nUsers);
    const items = new Uint8Array(data.nItems);
    const { indptr } = data.csr;
    for (let u = 0; u < data.nUsers; u++) users[u] = indptr[u + 1]! > indptr[u]! ? 1 : 0;
    const cp = data.csc.indptr;
    for (let i = 0; i < data.nItems; i++) items[i] = cp[i + 1]! > cp[i]! ? 1 : 0;
    return { users, items };
  }

  private baseline(w: ParamStore, u: number, i: number, nUsers: number, nItems: number): number {
    let s = w.get('baseline_global')[0]!;
    if (u >= 0 && u < nUsers) s += w.get('baseline_user')[u]!;
    if (i >= 0 && i < nItems) s += w.get('baseline_item')[i]!;
    return s;
  }

  /** @internal The decoder's outputs for users (rows x items), unclipped and without the baseline fallback. */
  protected override rawScores(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array): Float32Array {
    const H = this.itemCodes(tf, w, data);
    const h = w.shape('encoder_bias')[0]!;
    const rows = Int32Array.from(users, (u) => (u >= 0 && u < data.nUsers ? u : -1));
    const out = tf.tidy(() => {
      const U = tf.tensor2d(w.gather('decoder_weight', rows), [rows.length, h]);
      const b = tf.reshape(tf.tensor1d(w.gather('decoder_bias', rows)), [rows.length, 1]);
      return tf.add(matMulT(tf, U, tf.tensor2d(H, [data.nItems, h])), b).dataSync() as Float32Array;
    });
    return Float32Array.from(out);
  }

  /** @internal */
  protected scoreRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array): Float32Array {
    const nI = data.nItems;
    const rows = Int32Array.from(users, (u) => (u >= 0 && u < data.nUsers ? u : -1));
    const scores = this.rawScores(tf, w, data, rows);
    const known = this.known(data);
    const range = w.get('rating_range');
    const lo = range[0]!;
    const hi = range[1]!;
    for (let r = 0; r < rows.length; r++) {
      const u = rows[r]!;
      const row = scores.subarray(r * nI, (r + 1) * nI);
      for (let i = 0; i < nI; i++) {
        const v = u >= 0 && known.users[u] && known.items[i] ? row[i]! : this.baseline(w, known.users[u] ? u : -1, known.items[i] ? i : -1, data.nUsers, nI);
        row[i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
    return scores;
  }

  /** @internal */
  protected override predictRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array, items: Int32Array): Float32Array {
    const H = this.itemCodes(tf, w, data);
    const h = w.shape('encoder_bias')[0]!;
    const n = users.length;
    const known = this.known(data);
    const ok = (p: number) => {
      const u = users[p]!;
      const i = items[p]!;
      return u >= 0 && u < data.nUsers && i >= 0 && i < data.nItems && known.users[u] === 1 && known.items[i] === 1;
    };
    const u = Int32Array.from(users, (v, p) => (ok(p) ? v : -1));
    const iIdx = Int32Array.from(items, (v, p) => (ok(p) ? v : -1));
    const Hrows = native(() => addon.gatherRows(H, h, iIdx));
    const pred = tf.tidy(() => {
      const W = tf.tensor2d(w.gather('decoder_weight', u), [n, h]);
      return tf.add(tf.sum(tf.mul(tf.tensor2d(Hrows, [n, h]), W), 1), tf.tensor1d(w.gather('decoder_bias', u))).dataSync() as Float32Array;
    });
    const out = Float32Array.from(pred);
    const range = w.get('rating_range');
    const lo = range[0]!;
    const hi = range[1]!;
    for (let p = 0; p < n; p++) {
      const uu = users[p]!;
      const ii = items[p]!;
      const v =
        u[p]! >= 0
          ? out[p]!
          : this.baseline(
              w,
              uu >= 0 && uu < data.nUsers && known.users[uu] ? uu : -1,
              ii >= 0 && ii < data.nItems && known.items[ii] ? ii : -1,
              data.nUsers,
              data.nItems,
            );
      out[p] = v < lo ? lo : v > hi ? hi : v;
    }
    return out;
  }

  protected override unknownItemScore(): number {
    throw new RecsysError('E_STATE', 'AutoRec predicts every pair itself');
  }

  /** Items: their hidden codes. */
  protected override itemVectors(w: ParamStore): { data: Float32Array; dim: number } {
    return { data: this.itemCodes(tfSync(), w, this.scoringData), dim: w.shape('encoder_bias')[0]! };
  }

  /** The training ratings travel with the weights: the item codes are computed from them. */
  protected override extraState(): StateTensors {
    return this.interactionsState(this.scoringData, true);
  }

  protected override dataFromState(state: StateTensors, users: IdMap, items: IdMap): Dataset {
    return this.interactionsFromState(state, users, items, true);
  }

  /** @internal Users: their decoder rows. */
  protected override userVectors(_tf: Tf, w: ParamStore): { data: Float32Array; dim: number } {
    return { data: w.get('decoder_weight'), dim: w.shape('encoder_bias')[0]! };
  }
}
