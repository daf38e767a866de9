import type { Dataset } from '../data/dataset.js';
import type { CsrMatrix, FitOptionsNative, NativeModel } from '../native.js';
import { FactorRecommender, nativeFit, type CommonParams } from './base.js';
import { checkBool, checkInt, checkRatingScale, checkReal, type RatingScaleParams } from './params.js';

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

/**
 * Alternating least squares on explicit ratings with weighted-lambda regularization (ALS-WR, Zhou et al. 2008)
 * and biases. Each sweep solves one small ridge system per user and per item (Cholesky through the BLAS layer),
 * in parallel; the result does not depend on the thread count. Fold-in is the exact least-squares solve.
 */
export class ExplicitALS extends FactorRecommender<ExplicitALSParams> {
  readonly name = 'ExplicitALS';
  constructor(params: ExplicitALSParams = {}) {
    super(params);
    const p = this.params;
    checkInt('factors', p.factors, 1, 4096);
    checkInt('epochs', p.epochs, 0, 1_000_000);
    checkReal('reg', p.reg, 0, Infinity, true);
    checkBool('biased', p.biased);
    checkReal('initStd', p.initStd, 0);
    checkRatingScale(p);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return nativeFit<[CsrMatrix, CsrMatrix, object]>('fitExplicitALS')(train.csr, train.csc, { ...this.params }, run);
  }
}
