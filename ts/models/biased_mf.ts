import { withAnn, type AnnParams } from './ann.js';
import { csrOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, FLOAT_LIMIT, resolveParams, type ModelSpec, type ParamSpec } from './params.js';
import { ratingScaleRule, ratingScaleSpec, type RatingScaleParams } from './rating.js';

/** Options of the SGD matrix-factorization models (BiasedMF, SVDpp). */
export interface SgdMfParams extends CommonParams, AnnParams, RatingScaleParams {
  /** Latent factors. BiasedMF default 100, SVDpp 20. */
  factors?: number;
  /** Passes over the ratings. Default 20. */
  epochs?: number;
  /** Learning rate of the factors. BiasedMF default 0.005, SVDpp 0.007. */
  lr?: number;
  /** L2 regularization of the factors. Default 0.02. */
  reg?: number;
  /** Learning rate of the biases. Default lr. */
  lrBias?: number;
  /** Regularization of the biases. Default reg. */
  regBias?: number;
  /** Factors start as N(initMean, initStd^2). Defaults 0 and 0.1. */
  initMean?: number;
  initStd?: number;
  /** Global mean and user/item biases in the model. Default true. */
  biased?: boolean;
  /**
   * Visit each block's ratings in a seeded random order (default true). false keeps user-by-user order; with
   * blocks: 1 that is Surprise's exact order.
   */
  shuffle?: boolean;
  /**
   * Side of the B x B grid of conflict-free rating blocks that threads share out (0 = default: max(8, 2 x threads)).
   * A fit is reproducible for a given seed and grid: so with the default, for every thread count up to 4.
   */
  blocks?: number;
}

/** The SGD options with BiasedMF's defaults (SVDpp overrides factors and lr). lrBias / regBias are lr / reg when not given. */
export const sgdSpec: Record<string, ParamSpec> = {
  factors: { int: [1, 4096], default: 100 },
  epochs: { int: [0, 1_000_000], default: 20 },
  lr: { real: [FLOAT_TINY, FLOAT_LIMIT], default: 0.005 },
  reg: { real: [0, FLOAT_LIMIT], default: 0.02 },
  lrBias: { real: [FLOAT_TINY, FLOAT_LIMIT], derive: (p) => p.lr as number },
  regBias: { real: [0, FLOAT_LIMIT], derive: (p) => p.reg as number },
  initMean: { real: [-FLOAT_LIMIT, FLOAT_LIMIT], default: 0 },
  initStd: { real: [0, FLOAT_LIMIT], default: 0.1 },
  biased: { bool: true, default: true },
  shuffle: { bool: true, default: true },
  // 0 = max(8, 2 x threads)
  blocks: { int: [0, 1024], default: 0 },
  ...ratingScaleSpec,
};

const spec: ModelSpec = { params: sgdSpec, rules: [ratingScaleRule] };

/**
 * Biased matrix factorization fitted by SGD: r_ui ~ mu + b_u + b_i + p_u . q_i (Funk; Koren, Bell & Volinsky 2009).
 * Surprise's `SVD` with its defaults (100 factors, 20 epochs, lr 0.005, reg 0.02, init N(0, 0.1)), multi-threaded
 * over a conflict-free block grid. Predictions are clipped to the rating scale; an unknown user or item gets
 * mu plus the known side's bias (the global mean when biased is false). Fold-in runs the same SGD epochs on the
 * new user's vector alone.
 */
export class BiasedMF extends FactorRecommender<SgdMfParams> {
  readonly name = 'BiasedMF';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'BiasedMF';
  }
  constructor(params: SgdMfParams = {}) {
    super(resolveParams('BiasedMF', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitBiasedMF(csrOf(train), this.nativeParams(train), run);
  }
}
