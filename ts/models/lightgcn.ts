import { withAnn, type AnnParams } from './ann.js';
import { csrOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, resolveParams, type ModelSpec } from './params.js';

export interface LightGCNParams extends CommonParams, AnnParams {
  /** Embedding size. Default 64 (the paper's). */
  factors?: number;
  /** Propagation layers K (1..16); the final embedding is the mean of layers 0..K. Default 3 (the paper's). */
  layers?: number;
  /** Adam learning rate. Default 0.005. */
  lr?: number;
  /** L2 weight on the batch's layer-0 embeddings (reg/2 · |e|² / batch, as the paper's code). Default 1e-4. */
  reg?: number;
  /** Epochs; each draws as many (user, positive, negative) triples as there are interactions. Default 60. */
  epochs?: number;
  /** Triples per Adam step; every step propagates the whole graph forward and backward. Default 2048. */
  batchSize?: number;
  /** Report the mean BPR loss -log sigmoid(x_uij) of each epoch's samples through onProgress. Default false. */
  computeLoss?: boolean;
  /**
   * The fit refuses (E_MEMORY, before allocating) when its embeddings, optimizer state and graph would need more
   * bytes than this. Default: half of the machine's physical memory.
   */
  maxMemoryBytes?: number;
}

const spec: ModelSpec = {
  params: {
    factors: { int: [1, 4096], default: 64 },
    layers: { int: [1, 16], default: 3 },
    lr: { real: [FLOAT_TINY, 1e6], default: 0.005 },
    reg: { real: [0, 1e6], default: 1e-4 },
    epochs: { int: [0, 1000000], default: 60 },
    batchSize: { int: [1, 16777216], default: 2048 },
    computeLoss: { bool: true, default: false, state: false },
  },
};

/**
 * LightGCN (He et al. 2020): user and item embeddings propagated K times over the symmetric-normalized user-item
 * graph, final embedding the mean of the layers, trained with BPR (uniform negatives) and Adam, natively (no
 * TensorFlow.js). Interaction values are ignored. A seed gives the same model for any thread count. Fold-in of a
 * new user propagates that user's items (the fitted item layers) to a user embedding; similarItems compares the
 * final item embeddings.
 */
export class LightGCN extends FactorRecommender<LightGCNParams> {
  readonly name = 'LightGCN';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'LightGCN';
  }
  constructor(params: LightGCNParams = {}) {
    super(resolveParams('LightGCN', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitLightGCN(csrOf(train), this.nativeParams(train), run);
  }
}
