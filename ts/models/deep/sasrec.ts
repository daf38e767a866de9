// SASRec (Kang & McAuley 2018, "Self-Attentive Sequential Recommendation"): a user's last maxLength items, in time
// order, embedded (item embedding x sqrt(hidden) plus a learned position embedding) and passed through causal
// self-attention blocks (layer norm, one-head attention over earlier positions only, residual; layer norm,
// point-wise two-layer feed-forward, residual; dropout throughout). The output at each position scores the next
// item against the item embeddings (shared input/output table). Trained by default with the full softmax
// cross-entropy over the catalogue at every position (Klenitskiy & Vasilev 2023: "SASRec+" beats BERT4Rec);
// 'sampled' is a softmax over the label and `negatives` items shared by the batch (for large catalogues), 'bce' the
// paper's loss (one sampled negative per position) and 'gbce' the calibrated sampled loss of Petrov & Macdonald 2023
// (gSASRec). Scoring runs the encoder over a history and reads the last
// position, so a history passed at request time is scored the same way (a session: no refit).
import type * as TF from '@tensorflow/tfjs';
import { RecsysError, argError } from '../../errors.js';
import { csrOf, type Dataset } from '../../data/dataset.js';
import type { IdMap } from '../../data/idmap.js';
import { userSequence } from '../../eval/sequential.js';
import { Rng } from '../../rng.js';
import type { ModelTask } from '../base.js';
import { FLOAT_LIMIT, resolveParams, type ModelSpec } from '../params.js';
import { tfSync, type Tf } from './backend.js';
import { DeepRecommender, deepSpec, type DeepDefaults, type DeepParams, type MemoryNeed, type StateTensors, type Trainer } from './base.js';
import { matMul } from './ops.js';
import { ParamStore, glorotUniform, type OptimizerConfig } from './params.js';

export interface SASRecParams extends DeepParams {
  /** Items of the history the encoder reads (the most recent ones). Default 50 (the paper's 200 for ML-1M). */
  maxLength?: number;
  /** Embedding and hidden width. Default 50 (the paper's). */
  hidden?: number;
  /** Self-attention blocks. Default 2. */
  blocks?: number;
  /** Dropout rate on embeddings, attention weights and feed-forward layers. Default 0.2 (the paper's for ML-1M). */
  dropout?: number;
  /**
   * 'softmax': full cross-entropy over the catalogue at every position (default); 'sampled': cross-entropy over the
   * label and `negatives` uniform items shared by the mini-batch (the cost of the output layer falls from items to
   * negatives per position); 'bce': the paper's binary
   * cross-entropy with `negatives` uniform negatives per position; 'gbce': gSASRec's generalised BCE (the positive's
   * probability raised to beta, calibrated by `gbceT`).
   */
  loss?: 'softmax' | 'sampled' | 'bce' | 'gbce';
  /** Sampled negatives: per position for 'bce' / 'gbce' (default 1 / 256), per mini-batch for 'sampled' (default 512). */
  negatives?: number;
  /**
   * Training windows per user: 'last' (the paper's: the last maxLength + 1 items) or 'all' (the whole history cut into
   * windows of maxLength from its end: with a short maxLength the older events still train the model). Default 'last'.
   */
  windows?: 'last' | 'all';
  /** gBCE's calibration t in [0, 1] (0: plain BCE, 1: fully calibrated). Default 0.75 (the gSASRec paper's). */
  gbceT?: number;
  /** L2 on the weights (Adam's coupled decay). Default 0. */
  l2?: number;
  /**
   * Seconds of training after which no further epoch starts (the one running finishes; the later ones are
   * reported with no loss). Default: none, every epoch runs.
   */
  timeLimit?: number;
}

const spec: ModelSpec = {
  params: {
    ...deepSpec,
    maxLength: { int: [1, 100_000] },
    timeLimit: { real: [0, 1e9], state: false },
    hidden: { int: [1, 100_000] },
    blocks: { int: [1, 64] },
    dropout: { real: [0, 0.999999] },
    loss: { oneOf: ['softmax', 'sampled', 'bce', 'gbce'] },
    windows: { oneOf: ['last', 'all'] },
    negatives: { int: [1, 1_000_000] },
    gbceT: { real: [0, 1] },
    l2: { real: [0, FLOAT_LIMIT] },
  },
};

/** Values of one scoring block's logits (histories x items). */
const BLOCK = 2 ** 22;
/** The attention mask's "minus infinity" (finite, so a fully masked row stays finite). */
const MASKED = -1e9;

type Dense = Map<string, TF.Tensor>;

/** Per-block weight names. */
const BLOCK_WEIGHTS = [
  'ln1_gamma',
  'ln1_beta',
  'q_weight',
  'q_bias',
  'k_weight',
  'k_bias',
  'v_weight',
  'v_bias',
  'ln2_gamma',
  'ln2_beta',
  'ff1_weight',
  'ff1_bias',
  'ff2_weight',
  'ff2_bias',
];

/**
 * SASRec for next-item recommendation from time-ordered interactions (needs timestamps to be meaningful; without
 * them a user's items are read in item order). recommend() continues a known user's training history;
 * recommendForNewUser() takes a history as given, oldest first; scoreSequences() scores many histories at once.
 * Scores are the logits of the next item. similarItems compares item embeddings.
 */
export class SASRec extends DeepRecommender<SASRecParams> {
  readonly name: string = 'SASRec';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** Each user's last maxLength training items (users x maxLength, -1 before a short history). */
  private recent?: { data: Dataset; items: Int32Array };
  private loadedRecent?: Int32Array;

  constructor(params: SASRecParams = {}) {
    super(resolveParams('SASRec', params, spec));
  }

  protected defaults(): DeepDefaults {
    return { epochs: 200, batchSize: 128, lr: 0.001, validation: 0, patience: 10 };
  }

  private get dims(): { L: number; d: number; blocks: number } {
    return { L: this.params.maxLength ?? 50, d: this.params.hidden ?? 50, blocks: this.params.blocks ?? 2 };
  }

  protected stateShapes(_nUsers: number, nItems: number): Record<string, number[]> {
    const { L, d, blocks } = this.dims;
    const out: Record<string, number[]> = { item_embedding: [nItems, d], position_embedding: [L, d] };
    for (let b = 0; b < blocks; b++) for (const n of BLOCK_WEIGHTS) out[`block${b}_${n}`] = n.endsWith('_weight') ? [d, d] : [d];
    out['final_gamma'] = [d];
    out['final_beta'] = [d];
    return out;
  }

  protected memoryNeed(data: Dataset): MemoryNeed {
    const nI = data.nItems;
    const { L, d, blocks } = this.dims;
    let all = 0;
    for (const s of Object.values(this.stateShapes(data.nUsers, nI))) all += s.reduce((a, b) => a + b, 1);
    const b = Math.min(this.opt('batchSize'), Math.max(1, data.nUsers));
    const pos = b * L;
    const loss = this.params.loss ?? 'softmax';
    const out = loss === 'softmax' ? pos * nI : pos * (1 + this.negatives());
    // ('sampled': pos x (1 + negatives) as well.)
    const host = 4 * (all * this.optimizerCopies() + 2 * all + data.nUsers * L + pos * 4);
    // A step: the weights and their gradients, the logits with softmax and gradients, the blocks' activations.
    const step = 4 * (3 * all + 4 * out + blocks * (12 * pos * d + 4 * b * L * L));
    const block = this.scoreBlock(nI);
    const score = 4 * (all + 2 * block * nI + blocks * (8 * block * L * d + 2 * block * L * L));
    return {
      host,
      tensors: Math.max(step, score),
      largest: Math.max(out, all, block * nI),
      detail: `outputs ${pos} x ${loss === 'softmax' ? nI : 1 + this.negatives()}, batch ${b}`,
    };
  }

  private negatives(): number {
    const loss = this.params.loss ?? 'softmax';
    return this.params.negatives ?? (loss === 'gbce' ? 256 : loss === 'sampled' ? 512 : 1);
  }

  private scoreBlock(nItems: number): number {
    return Math.max(1, Math.min(1024, Math.floor(BLOCK / Math.max(1, nItems))));
  }

  // ---- the network ------------------------------------------------------------------------------------------

  private layerNorm(tf: Tf, x: TF.Tensor2D, gamma: TF.Tensor, beta: TF.Tensor): TF.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add<TF.Tensor2D>(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-8))), gamma), beta);
  }

  private dense(tf: Tf, x: TF.Tensor2D, w: Dense, name: string): TF.Tensor2D {
    return tf.add<TF.Tensor2D>(matMul(tf, x, w.get(`${name}_weight`)!), w.get(`${name}_bias`)!);
  }

  /**
   * Hidden states of every position (rows b * L + t) for histories `seq` (n x L, left-padded with -1), given the
   * dense weights and the histories' item embeddings x0 (n L x hidden, zeros at padding: gathered on the host, since
   * the wasm backend has no gradient for a gather). `drop` (training only) gives dropout a rate and seed.
   */
  private encode(tf: Tf, w: Dense, x0: TF.Tensor, seq: Int32Array, n: number, drop?: { rate: number; seed: number }): TF.Tensor2D {
    const { L, d, blocks } = this.dims;
    let salt = 0;
    const dropout = <T extends TF.Tensor>(x: T): T => (drop && drop.rate > 0 ? (tf.dropout(x, drop.rate, undefined, drop.seed * 131 + salt++) as T) : x);
    const keep = Float32Array.from(seq, (i) => (i >= 0 ? 1 : 0));
    const mask = tf.tensor2d(keep, [n * L, 1]);
    // Attention bias: position t sees positions <= t that hold an item.
    const bias = new Float32Array(n * L * L);
    for (let r = 0; r < n; r++) for (let t = 0; t < L; t++) for (let s = 0; s < L; s++) bias[(r * L + t) * L + s] = s > t || keep[r * L + s] === 0 ? MASKED : 0;
    const attnBias = tf.tensor3d(bias, [n, L, L]);
    const positions = tf.tile(w.get('position_embedding')!, [n, 1]);
    let x = tf.add<TF.Tensor2D>(tf.mul(x0, Math.sqrt(d)), positions);
    x = tf.mul(dropout(x), mask);
    for (let b = 0; b < blocks; b++) {
      const p = `block${b}`;
      const q = this.layerNorm(tf, x, w.get(`${p}_ln1_gamma`)!, w.get(`${p}_ln1_beta`)!);
      const Q = tf.reshape(this.dense(tf, q, w, `${p}_q`), [n, L, d]);
      const K = tf.reshape(this.dense(tf, x, w, `${p}_k`), [n, L, d]);
      const V = tf.reshape(this.dense(tf, x, w, `${p}_v`), [n, L, d]);
      const att = dropout(tf.softmax(tf.add(tf.div(tf.matMul(Q, K, false, true), Math.sqrt(d)), attnBias)));
      x = tf.add<TF.Tensor2D>(q, tf.reshape(tf.matMul(att, V), [n * L, d]));
      const f = this.layerNorm(tf, x, w.get(`${p}_ln2_gamma`)!, w.get(`${p}_ln2_beta`)!);
      const h = dropout(tf.relu(this.dense(tf, dropout(f), w, `${p}_ff1`)));
      x = tf.mul(tf.add<TF.Tensor2D>(f, dropout(this.dense(tf, h, w, `${p}_ff2`))), mask);
    }
    return this.layerNorm(tf, x, w.get('final_gamma')!, w.get('final_beta')!);
  }

  /** The histories' last L items, left-padded with -1 (n x L). */
  private window(histories: readonly ArrayLike<number>[]): Int32Array {
    const L = this.dims.L;
    const out = new Int32Array(histories.length * L).fill(-1);
    histories.forEach((h, r) => {
      const from = Math.max(0, h.length - L);
      for (let j = from; j < h.length; j++) out[r * L + L - (h.length - j)] = h[j]!;
    });
    return out;
  }

  /** Next-item logits (n x nItems) of left-padded windows. */
  private scoreWindows(tf: Tf, w: ParamStore, seq: Int32Array, n: number): Float32Array {
    const nItems = w.shape('item_embedding')[0]!;
    const L = this.dims.L;
    const out = new Float32Array(n * nItems);
    const block = this.scoreBlock(nItems);
    tf.tidy(() => {
      const dense: Dense = new Map(w.names().map((nm) => [nm, tf.tensor(w.get(nm), w.shape(nm))] as [string, TF.Tensor]));
      const Et = tf.transpose(dense.get('item_embedding')!);
      for (let b0 = 0; b0 < n; b0 += block) {
        const m = Math.min(block, n - b0);
        const s = tf.tidy(() => {
          const part = seq.subarray(b0 * L, (b0 + m) * L);
          const h = this.encode(tf, dense, tf.tensor2d(w.gather('item_embedding', part), [m * L, this.dims.d]), part, m);
          const last = tf.gather(
            h,
            tf.tensor1d(
              Int32Array.from({ length: m }, (_, r) => r * L + L - 1),
              'int32',
            ),
          );
          return tf.matMul(last, Et);
        });
        out.set(s.dataSync(), b0 * nItems);
        s.dispose();
      }
    });
    return out;
  }

  /** Scores of every item after each history (dense item indices, oldest first), for evaluateSequential. */
  scoreSequences(histories: readonly ArrayLike<number>[]): Float32Array {
    const w = this.fittedWeights;
    const nItems = w.shape('item_embedding')[0]!;
    const clean = histories.map((h) => Array.from(h).filter((i) => i >= 0 && i < nItems));
    return this.scoreWindows(tfSync(), w, this.window(clean), histories.length);
  }

  /** @internal Encoder outputs (no dropout) at each position of one history, oldest first (the causality test reads them). */
  _positions(history: readonly number[]): Float32Array[] {
    const tf = tfSync();
    const w = this.fittedWeights;
    const { L, d } = this.dims;
    const h = history.slice(-L);
    const out = tf.tidy(() => {
      const dense: Dense = new Map(w.names().map((nm) => [nm, tf.tensor(w.get(nm), w.shape(nm))] as [string, TF.Tensor]));
      const seq = this.window([h]);
      return this.encode(tf, dense, tf.tensor2d(w.gather('item_embedding', seq), [L, d]), seq, 1).dataSync() as Float32Array;
    });
    return h.map((_, j) => out.slice((L - h.length + j) * d, (L - h.length + j + 1) * d));
  }

  // ---- training ---------------------------------------------------------------------------------------------

  /** @internal */
  protected makeTrainer(tf: Tf, data: Dataset): Trainer {
    const nItems = data.nItems;
    const { L, d } = this.dims;
    const seed = this.params.seed ?? 42;
    const rng = new Rng(seed, 0);
    const l2 = this.params.l2 ?? 0;
    const w = new ParamStore();
    for (const [name, shape] of Object.entries(this.stateShapes(data.nUsers, nItems))) {
      if (shape.length === 2) w.add(name, { shape, l2 }, glorotUniform(shape[0]!, shape[1]!, rng));
      else w.add(name, { shape }, new Float32Array(shape[0]!).fill(name.endsWith('gamma') ? 1 : 0));
    }
    // Training windows of L + 1 items (input: all but the last, target: all but the first): each user's last one,
    // or ('all') every one back from the end of the history.
    const inputs: Int32Array[] = [];
    const targets: Int32Array[] = [];
    const all = (this.params.windows ?? 'last') === 'all';
    for (let u = 0; u < data.nUsers; u++) {
      const s = userSequence(data, u);
      for (let end = s.length; end >= 2; end -= L) {
        const part = s.subarray(Math.max(0, end - L - 1), end);
        inputs.push(part.subarray(0, part.length - 1));
        targets.push(part.subarray(1));
        if (!all) break;
      }
    }
    if (inputs.length === 0) throw new RecsysError('E_EMPTY', `${this.name}: no user has 2 or more interactions to learn a next item from`);
    const bs = Math.min(this.opt('batchSize'), inputs.length);
    const steps = Math.ceil(inputs.length / bs);
    const dropout = this.params.dropout ?? 0.2;
    const loss = this.params.loss ?? 'softmax';
    const negatives = this.negatives();
    const gbceT = this.params.gbceT ?? 0.75;
    const opt: OptimizerConfig = { method: this.params.optimizer ?? 'adam', lr: this.opt('lr') };
    const own = loss === 'softmax' ? w.names() : w.names().filter((nm) => nm !== 'item_embedding');
    const order = Int32Array.from({ length: inputs.length }, (_, j) => j);
    const negRng = new Rng(seed, 2_000_000);
    const timeLimit = this.params.timeLimit;
    const started = performance.now();
    return {
      weights: w,
      epochs: this.opt('epochs'),
      epoch: (e) => {
        if (timeLimit !== undefined && (performance.now() - started) / 1000 > timeLimit) return { steps: 0, step: () => NaN };
        const shuffle = new Rng(seed, 1 + e);
        for (let j = order.length - 1; j > 0; j--) {
          const k = shuffle.below(j + 1);
          [order[j], order[k]] = [order[k]!, order[j]!];
        }
        return {
          steps,
          step: (s) => {
            const rows = order.subarray(s * bs, Math.min(order.length, (s + 1) * bs));
            const n = rows.length;
            const seq = this.window(Array.from(rows, (r) => inputs[r]!));
            const tgt = this.window(Array.from(rows, (r) => targets[r]!));
            const nPos = n * L;
            let count = 0;
            const keep = new Float32Array(nPos);
            for (let p = 0; p < nPos; p++)
              if (tgt[p]! >= 0) {
                keep[p] = 1;
                count++;
              }
            const labels = Int32Array.from(tgt, (i) => Math.max(0, i));
            const t = w.steps;
            const m = negatives;
            // Sampled losses: row p's candidates are its label then m negatives (embeddings gathered on the host).
            let cand: Int32Array | undefined;
            if (loss === 'sampled') cand = Int32Array.from({ length: m }, () => negRng.below(nItems));
            else if (loss !== 'softmax') {
              const negs = sampleNegatives(new Rng(seed, 1_000_000 + t), labels, m, nItems);
              cand = new Int32Array(nPos * (1 + m));
              for (let p = 0; p < nPos; p++) {
                cand[p * (1 + m)] = labels[p]!;
                cand.set(negs.subarray(p * m, (p + 1) * m), p * (1 + m) + 1);
              }
            }
            w.tick();
            const rowsOf = (ids: Int32Array, shape: number[]) => tf.tensor(w.gather('item_embedding', ids), shape);
            return tf.tidy(() => {
              const x0 = tf.tensor2d(w.gather('item_embedding', seq), [nPos, d]);
              // Inputs: the history's rows, the candidates' rows (sampled losses), the dense weights (the item table
              // only where the softmax output reads it whole).
              const lead =
                loss === 'softmax'
                  ? [x0, rowsOf(labels, [nPos, d])]
                  : loss === 'sampled'
                    ? [x0, rowsOf(labels, [nPos, d]), rowsOf(cand!, [m, d])]
                    : [x0, rowsOf(cand!, [nPos, 1 + m, d])];
              const args = [...lead, ...own.map((nm) => tf.tensor(w.get(nm), w.shape(nm)))];
              const keepT = tf.tensor1d(keep);
              const f = (...a: TF.Tensor[]) => {
                const dense: Dense = new Map(own.map((nm, j) => [nm, a[j + lead.length]!]));
                const h = this.encode(tf, dense, a[0]!, seq, n, { rate: dropout, seed: seed * 1009 + t });
                if (loss === 'softmax') {
                  // -log softmax(z)_label = logsumexp(z) - h . e_label: the label's logit from its embedding row
                  // (a[1], gathered on the host), so no one-hot or log-softmax over the logits is formed.
                  const lse = logSumExpRows(tf, matMul(tf, h, tf.transpose(dense.get('item_embedding')!)));
                  const picked = tf.sum(tf.mul(h, a[1]!), 1);
                  return tf.div<TF.Scalar>(tf.sum(tf.mul(tf.sub(lse, picked), keepT)), count);
                }
                if (loss === 'sampled') {
                  const picked = tf.sum<TF.Tensor1D>(tf.mul(h, a[1]!), 1);
                  const lse = logSumExpWith(tf, picked, matMul(tf, h, tf.transpose(a[2]!)));
                  return tf.div<TF.Scalar>(tf.sum(tf.mul(tf.sub(lse, picked), keepT)), count);
                }
                const logits = tf.sum<TF.Tensor2D>(tf.mul(tf.expandDims(h, 1), a[1]!), 2);
                // -log sigma(z) = softplus(-z); -log(1 - sigma(z)) = softplus(z).
                let posTerm = tf.reshape(tf.softplus(tf.neg(tf.slice(logits, [0, 0], [nPos, 1]))), [nPos]);
                if (loss === 'gbce') {
                  const alpha = m / Math.max(1, nItems - 1);
                  posTerm = tf.mul(posTerm, alpha * (gbceT * (1 - 1 / alpha) + 1 / alpha)); // -log(sigma(z)^beta)
                }
                const negTerm = tf.sum(tf.softplus(tf.slice(logits, [0, 1], [nPos, m])), 1);
                return tf.div<TF.Scalar>(tf.sum(tf.mul(tf.add(posTerm, negTerm), keepT)), count);
              };
              const { value, grads } = tf.valueAndGrads(f)(args);
              // The item table's gradient: its direct one (softmax output) plus the gathered rows' scattered back.
              const gE =
                loss === 'softmax' ? (grads[lead.length + own.indexOf('item_embedding')]!.dataSync() as Float32Array).slice() : new Float32Array(nItems * d);
              const scatter = (rows: Int32Array, g: Float32Array) => {
                for (let p = 0; p < rows.length; p++) {
                  const i = rows[p]!;
                  if (i < 0) continue;
                  for (let k = 0; k < d; k++) gE[i * d + k] = gE[i * d + k]! + g[p * d + k]!;
                }
              };
              scatter(seq, grads[0]!.dataSync() as Float32Array);
              // The labels' (or candidates') rows; padding positions carry no loss, so their gradients are zero.
              scatter(loss === 'softmax' || loss === 'sampled' ? labels : cand!, grads[1]!.dataSync() as Float32Array);
              if (loss === 'sampled') scatter(cand!, grads[2]!.dataSync() as Float32Array);
              own.forEach((nm, j) => {
                if (nm !== 'item_embedding') w.step(nm, grads[j + lead.length]!.dataSync() as Float32Array, opt);
              });
              w.step('item_embedding', gE, opt);
              return value.dataSync()[0]!;
            });
          },
        };
      },
    };
  }

  // ---- scoring ----------------------------------------------------------------------------------------------

  protected override afterFit(train: Dataset): void {
    if (this.loadedRecent) {
      this.recent = { data: train, items: this.loadedRecent };
      this.loadedRecent = undefined;
    } else this.recentOf(train);
  }

  /** Each user's last maxLength items of `data` (computed once per dataset; a loaded model's come from its file). */
  private recentOf(data: Dataset): Int32Array {
    if (this.recent?.data === data) return this.recent.items;
    const L = this.dims.L;
    const items = new Int32Array(data.nUsers * L).fill(-1);
    if (csrOf(data).indices.length > 0)
      for (let u = 0; u < data.nUsers; u++) {
        const s = userSequence(data, u);
        const tail = s.subarray(Math.max(0, s.length - L));
        items.set(tail, u * L + L - tail.length);
      }
    this.recent = { data, items };
    return items;
  }

  /** @internal */
  protected scoreRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array): Float32Array {
    const L = this.dims.L;
    const recent = this.recentOf(data);
    const nU = recent.length / L;
    const seq = new Int32Array(users.length * L).fill(-1);
    users.forEach((u, r) => {
      if (u >= 0 && u < nU) seq.set(recent.subarray(u * L, (u + 1) * L), r * L);
    });
    return this.scoreWindows(tf, w, seq, users.length);
  }

  /** @internal A new history, oldest first (the order recommendForNewUser was given). */
  protected override scoreNewUser(tf: Tf, w: ParamStore, items: Int32Array): Float32Array {
    return this.scoreWindows(tf, w, this.window([items]), 1);
  }

  protected override unknownItemScore(): number {
    return -Infinity;
  }

  protected override itemVectors(w: ParamStore): { data: Float32Array; dim: number } {
    return { data: w.get('item_embedding'), dim: this.dims.d };
  }

  protected override extraState(): StateTensors {
    const L = this.dims.L;
    const recent = this.recentOf(this.scoringData);
    return { recent: { shape: [recent.length / L, L], data: recent.slice() } };
  }

  /** @internal */
  override restoreState(state: StateTensors, users: IdMap, items: IdMap, seen: Dataset | undefined): void {
    const L = this.dims.L;
    const r = state['recent'];
    if (!r || !(r.data instanceof Int32Array)) throw argError(`${this.name} state has no Int32 tensor 'recent'`);
    if (r.data.length !== users.size * L)
      throw argError(`${this.name} state tensor 'recent' has ${r.data.length} values, expected ${users.size} users x maxLength ${L}`);
    for (const i of r.data) if (!(i >= -1 && i < items.size)) throw argError(`${this.name} state tensor 'recent' holds an unknown item`);
    this.loadedRecent = r.data.slice();
    super.restoreState(state, users, items, seen);
  }
}

const lseCache = new WeakMap<Tf, (z: TF.Tensor) => TF.Tensor1D>();

/**
 * Row-wise log-sum-exp of logits (n x k) whose gradient is softmax(z) times the incoming gradient, computed from
 * the softmax kept from the forward pass: two passes over the logits backward instead of tfjs's composite ops
 * (the output layer is most of a step's work: batch x maxLength x items values).
 * @internal
 */
export function logSumExpRows(tf: Tf, z: TF.Tensor2D): TF.Tensor1D {
  let f = lseCache.get(tf);
  if (!f) {
    f = tf.customGrad(((x: TF.Tensor2D, save: TF.GradSaveFunc) => {
      const mx = tf.max(x, 1, true);
      const e = tf.exp(tf.sub(x, mx));
      const s = tf.sum(e, 1, true);
      save([tf.div(e, s)]);
      return {
        value: tf.reshape(tf.add(mx, tf.log(s)), [-1]),
        gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => tf.mul(saved[0]!, tf.reshape(dy, [-1, 1])),
      };
    }) as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (z: TF.Tensor) => TF.Tensor1D;
    lseCache.set(tf, f);
  }
  return f(z);
}

const lseWithCache = new WeakMap<Tf, (p: TF.Tensor, z: TF.Tensor) => TF.Tensor1D>();

/**
 * Row-wise log(exp(p) + sum exp(z)) of a column p (n) beside logits z (n x k), as logSumExpRows of [p, z] without
 * forming the concatenation (a concat and its sliced gradient cost more than the rest of the sampled loss on wasm).
 * @internal
 */
export function logSumExpWith(tf: Tf, p: TF.Tensor1D, z: TF.Tensor2D): TF.Tensor1D {
  let f = lseWithCache.get(tf);
  if (!f) {
    f = tf.customGrad(((pp: TF.Tensor1D, x: TF.Tensor2D, save: TF.GradSaveFunc) => {
      const pc = tf.reshape(pp, [-1, 1]);
      const mx = tf.maximum(tf.max(x, 1, true), pc);
      const e = tf.exp(tf.sub(x, mx));
      const ep = tf.exp(tf.sub(pc, mx));
      const s = tf.add(tf.sum(e, 1, true), ep);
      save([tf.div(e, s), tf.div(ep, s)]);
      return {
        value: tf.reshape(tf.add(mx, tf.log(s)), [-1]),
        gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => {
          const g = tf.reshape(dy, [-1, 1]);
          return [tf.reshape(tf.mul(saved[1]!, g), [-1]), tf.mul(saved[0]!, g)];
        },
      };
    }) as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (p: TF.Tensor, z: TF.Tensor) => TF.Tensor1D;
    lseWithCache.set(tf, f);
  }
  return f(p, z);
}

/** m uniform negatives per label, each different from its label (n x m). */
function sampleNegatives(rng: Rng, labels: Int32Array, m: number, nItems: number): Int32Array {
  const out = new Int32Array(labels.length * m);
  for (let r = 0; r < labels.length; r++)
    for (let j = 0; j < m; j++) {
      let i = rng.below(nItems);
      if (nItems > 1) while (i === labels[r]) i = rng.below(nItems);
      out[r * m + j] = i;
    }
  return out;
}
