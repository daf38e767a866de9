import type { Dataset } from '../data/dataset.js';
import type { CsrMatrix, FitOptionsNative, NativeModel } from '../native.js';
import { argError } from '../errors.js';
import { FactorRecommender, nativeFit, type CommonParams, type ModelTask } from './base.js';
import { checkParams } from './params.js';
import { checkRatingScale, ratingScaleSpec, type RatingScaleParams } from './rating.js';

export interface NMFParams extends CommonParams, RatingScaleParams {
  /** Latent factors. Default 15. */
  factors?: number;
  /** Multiplicative-update epochs. Default 50. */
  epochs?: number;
  /** Regularization of user / item factors. Default 0.06 each. */
  regUser?: number;
  regItem?: number;
  /** Add mu + b_u + b_i, fitted by SGD inside each pass (Surprise's biased=True; one thread). Default false. */
  biased?: boolean;
  /** Bias SGD settings when biased: regularization 0.02, learning rate 0.005 (Surprise's). */
  regBiasUser?: number;
  regBiasItem?: number;
  lrBiasUser?: number;
  lrBiasItem?: number;
  /** Factors start uniform in [initLow, initHigh]. Defaults 0 and 1. */
  initLow?: number;
  initHigh?: number;
}

const spec = {
  factors: { int: [1, 4096] },
  epochs: { int: [0, 1_000_000] },
  regUser: { real: [0, Infinity] },
  regItem: { real: [0, Infinity] },
  biased: { bool: true },
  regBiasUser: { real: [0, Infinity] },
  regBiasItem: { real: [0, Infinity] },
  lrBiasUser: { real: [0, Infinity], open: true },
  lrBiasItem: { real: [0, Infinity], open: true },
  initLow: { real: [0, Infinity] },
  initHigh: { real: [0, Infinity] },
  ...ratingScaleSpec,
} as const;

/**
 * Non-negative matrix factorization by regularized multiplicative updates (Luo et al. 2014), Surprise's NMF
 * with its defaults (15 factors, 50 epochs, reg 0.06, unbiased). Needs non-negative ratings. An unknown user or
 * item gets the global mean (unbiased) or mu plus the known side's bias (biased). Fold-in runs the same updates
 * on the new user's vector alone.
 */
export class NMF extends FactorRecommender<NMFParams> {
  readonly name = 'NMF';
  readonly tasks: readonly ModelTask[] = ['rating'];
  constructor(params: NMFParams = {}) {
    super(params);
    checkParams(this.name, params, spec);
    checkRatingScale(this.name, params);
    const p = this.params;
    if ((p.initHigh ?? 1) < (p.initLow ?? 0)) throw argError(`${this.name}: initHigh must be >= initLow`);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return nativeFit<[CsrMatrix, CsrMatrix, object]>('fitNMF')(train.csr, train.csc, { ...this.params }, run);
  }
}
