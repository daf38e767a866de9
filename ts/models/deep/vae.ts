// What the variational autoencoders over a user's item set (Mult-VAE, RecVAE) share: the sparse first layer (a
// bag over the user's items, binary and L2-normalised, computed natively), scoring by encoding a user's items to
// the posterior mean and decoding it (log-softmax over the catalogue), so a new user is folded in from their items
// with no refit, and the training interactions kept in the model file. Each family defines its own encoder and
// decoder; the plumbing around them lives here once.
import type * as TF from '@tensorflow/tfjs';
import { native } from '../../errors.js';
import type { Dataset } from '../../data/dataset.js';
import type { IdMap } from '../../data/idmap.js';
import { addon, type CsrMatrix } from '../../native.js';
import { DeepRecommender, type DeepParams, type StateTensors } from './base.js';
import type { Tf } from './backend.js';
import type { BagEntries, ParamStore } from './params.js';

/** @internal Dense weights by name, as tensors (uploaded, or the arguments a gradient is taken over). */
export type Weights = (name: string) => TF.Tensor;

/** Input dropout off (scoring, and RecVAE's decoder passes). */
export const NO_DROPOUT = { dropout: 0, seed: 0, epoch: 0 } as const;

/** Scores per block: about this many floats of output at a time (memoryNeed counts a block). */
export const BLOCK = 2 ** 22;

/** The first encoder layer's weight: a table of one row per item, applied as a bag over the user's items. */
export const BAG_WEIGHT = 'encoder_0_weight';

export abstract class BagVae<P extends DeepParams> extends DeepRecommender<P> {
  /** @internal (mu, logvar) of the posterior from the first layer's product x W0 (rows x hidden, before its bias). */
  protected abstract encodeLatent(tf: Tf, pre0: TF.Tensor2D, w: Weights, nItems: number): { mu: TF.Tensor2D; logvar: TF.Tensor2D };
  /** @internal Logits over the catalogue for latent codes z. */
  protected abstract decodeLogits(tf: Tf, z: TF.Tensor2D, w: Weights, nItems: number): TF.Tensor2D;
  /** The name of the decoder's last weight (latent-or-hidden x items): its columns are the item vectors. */
  protected abstract outputWeight(nItems: number): string;
  /** Width of the latent code. */
  protected abstract latentSize(nItems: number): number;

  /** Names of the dense weights (every weight but the bag's table). */
  protected denseNames(nItems: number): string[] {
    return Object.keys(this.stateShapes(0, nItems)).filter((n) => n !== BAG_WEIGHT);
  }

  /** @internal x W0 for some rows of m: their items, binary and L2-normalised, with dropout when training. */
  protected firstLayer(
    table: Float32Array,
    m: CsrMatrix,
    rows: Int32Array,
    o: { dropout: number; seed: number; epoch: number } = NO_DROPOUT,
  ): { pre: Float32Array; entries: BagEntries } {
    const entries = native(() => addon.csrRows(m, rows, { binary: true, normalize: true, ...o }));
    const width = m.cols > 0 ? table.length / m.cols : 0;
    return { pre: native(() => addon.embeddingBag(table, width, entries, rows.length)), entries };
  }

  /**
   * Runs `f` over rows of m in blocks (no dropout), with the dense weights uploaded once; f's result (a tensor
   * of one row per block row) is copied into the block's place of the output, width per row.
   */
  private perBlock(tf: Tf, w: ParamStore, m: CsrMatrix, rows: Int32Array, width: number, f: (pre0: TF.Tensor2D, get: Weights) => TF.Tensor): Float32Array {
    const out = new Float32Array(rows.length * width);
    const block = Math.max(1, Math.min(1024, Math.floor(BLOCK / Math.max(1, m.cols, width))));
    const table = w.get(BAG_WEIGHT);
    tf.tidy(() => {
      const dense = new Map(this.denseNames(m.cols).map((nm) => [nm, tf.tensor(w.get(nm), w.shape(nm))] as [string, TF.Tensor]));
      const get = (nm: string) => dense.get(nm)!;
      for (let b0 = 0; b0 < rows.length; b0 += block) {
        const part = rows.subarray(b0, b0 + block);
        const { pre } = this.firstLayer(table, m, part);
        const s = tf.tidy(() => f(tf.tensor2d(pre, [part.length, pre.length / part.length]), get));
        out.set(s.dataSync(), b0 * width);
        s.dispose();
      }
    });
    return out;
  }

  /** @internal The posterior (mu, logvar) of rows of m (no dropout), rows x latent each. */
  protected encodePosterior(tf: Tf, w: ParamStore, m: CsrMatrix, rows: Int32Array): { mu: Float32Array; logvar: Float32Array } {
    const K = this.latentSize(m.cols);
    const both = this.perBlock(tf, w, m, rows, 2 * K, (pre0, get) => {
      const { mu, logvar } = this.encodeLatent(tf, pre0, get, m.cols);
      return tf.concat([mu, logvar], 1);
    });
    const mu = new Float32Array(rows.length * K);
    const logvar = new Float32Array(rows.length * K);
    for (let r = 0; r < rows.length; r++) {
      mu.set(both.subarray(2 * K * r, 2 * K * r + K), K * r);
      logvar.set(both.subarray(2 * K * r + K, 2 * K * (r + 1)), K * r);
    }
    return { mu, logvar };
  }

  /** @internal Users: the mean of their latent code. */
  protected override userVectors(tf: Tf, w: ParamStore, data: Dataset): { data: Float32Array; dim: number } {
    const all = Int32Array.from({ length: data.nUsers }, (_, u) => u);
    return { data: this.encodePosterior(tf, w, data.csr, all).mu, dim: this.latentSize(data.nItems) };
  }

  /** Log-softmax scores of every item for rows of m (the posterior mean decoded; no dropout). */
  private scoreCsr(tf: Tf, w: ParamStore, m: CsrMatrix, rows: Int32Array): Float32Array {
    return this.perBlock(tf, w, m, rows, m.cols, (pre0, get) => tf.logSoftmax(this.decodeLogits(tf, this.encodeLatent(tf, pre0, get, m.cols).mu, get, m.cols)));
  }

  /** @internal */
  protected scoreRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array): Float32Array {
    return this.scoreCsr(tf, w, data.csr, users);
  }

  /** @internal */
  protected override scoreNewUser(tf: Tf, w: ParamStore, items: Int32Array): Float32Array {
    const nItems = this.scoringData.nItems;
    const idx = Int32Array.from(new Set(items)).sort();
    const m: CsrMatrix = { rows: 1, cols: nItems, indptr: Int32Array.of(0, idx.length), indices: idx };
    return this.scoreCsr(tf, w, m, Int32Array.of(0));
  }

  protected override unknownItemScore(): number {
    return -Infinity;
  }

  /** Items: the columns of the decoder's output weight. */
  protected override itemVectors(w: ParamStore): { data: Float32Array; dim: number } {
    const name = this.outputWeight(this.scoringData.nItems);
    const W = w.get(name);
    const [h, n] = w.shape(name) as [number, number];
    const out = new Float32Array(n * h);
    for (let r = 0; r < h; r++) for (let i = 0; i < n; i++) out[i * h + r] = W[r * n + i]!;
    return { data: out, dim: h };
  }

  protected override extraState(): StateTensors {
    return this.interactionsState(this.scoringData, false);
  }

  protected override dataFromState(state: StateTensors, users: IdMap, items: IdMap): Dataset {
    return this.interactionsFromState(state, users, items, false);
  }
}
