import type { Dataset } from '../data/dataset.js';
import type { CsrMatrix, FitOptionsNative, NativeModel } from '../native.js';
import { FactorRecommender, nativeFit, type CommonParams, type ModelTask } from './base.js';
import { checkParams } from './params.js';
import { checkRatingScale, ratingScaleSpec, type RatingScaleParams } from './rating.js';

export interface ExplicitALSParams extends CommonParams, RatingScaleParams {
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

const spec = {
  factors: { int: [1, 4096] },
  epochs: { int: [0, 1_000_000] },
  reg: { real: [0, Infinity], open: true },
  biased: { bool: true },
  initStd: { real: [0, Infinity] },
  ...ratingScaleSpec,
} as const;

/**
 * Alternating least squares on explicit ratings with weighted-lambda regularization (ALS-WR, Zhou et al. 2008)
 * and biases. Each sweep solves one small ridge system per user and per item (Cholesky through the BLAS layer),
 * in parallel; the result does not depend on the thread count. Fold-in is the exact least-squares solve.
 */
export class ExplicitALS extends FactorRecommender<ExplicitALSParams> {
  readonly name = 'ExplicitALS';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  constructor(params: ExplicitALSParams = {}) {
    super(params);
    checkParams(this.name, params, spec);
    checkRatingScale(this.name, params);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return nativeFit<[CsrMatrix, CsrMatrix, object]>('fitExplicitALS')(train.csr, train.csc, { ...this.params }, run);
  }
}
