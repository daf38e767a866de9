import { withAnn, type AnnParams } from './ann.js';
import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_LIMIT, FLOAT_TINY, resolveParams, type ModelSpec } from './params.js';
import { ratingScaleRule, ratingScaleSpec, type RatingScaleParams } from './rating.js';

export interface ExplicitALSParams extends CommonParams, AnnParams, RatingScaleParams {
  /** Latent factors. Default 50. */
  factors?: number;
  /** Sweeps (users then items). Default 15. */
  epochs?: number;
  /** Regularization, multiplied by each user's / item's rating count (ALS-WR). Must be > 0. Default 0.1. */
  reg?: number;
  /** Global mean and user/item biases in the model. Default true. */
  biased?: boolean;
  /** Item factors start as N(0, initStd^2). Default 0.1. */
  initStd?: number;
}

const spec: ModelSpec = {
  params: {
    factors: { int: [1, 4096], default: 50 },
    epochs: { int: [0, 1_000_000], default: 15 },
    reg: { real: [FLOAT_TINY, FLOAT_LIMIT], default: 0.1 },
    biased: { bool: true, default: true },
    initStd: { real: [0, FLOAT_LIMIT], default: 0.1 },
    ...ratingScaleSpec,
  },
  rules: [ratingScaleRule],
};

/**
 * Alternating least squares on explicit ratings with weighted-lambda regularization (ALS-WR, Zhou et al. 2008)
 * and biases. Each sweep solves one small ridge system per user and per item (Cholesky through the BLAS layer),
 * in parallel; the result does not depend on the thread count. Fold-in is the exact least-squares solve.
 */
export class ExplicitALS extends FactorRecommender<ExplicitALSParams> {
  readonly name = 'ExplicitALS';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'ExplicitALS';
  }
  constructor(params: ExplicitALSParams = {}) {
    super(resolveParams('ExplicitALS', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitExplicitALS(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }
}
