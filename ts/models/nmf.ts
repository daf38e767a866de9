import { withAnn, type AnnParams } from './ann.js';
import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, FLOAT_LIMIT, ordered, resolveParams, type ModelSpec } from './params.js';
import { ratingScaleRule, ratingScaleSpec, type RatingScaleParams } from './rating.js';

export interface NMFParams extends CommonParams, AnnParams, RatingScaleParams {
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

const spec: ModelSpec = {
  params: {
    factors: { int: [1, 4096], default: 15 },
    epochs: { int: [0, 1_000_000], default: 50 },
    regUser: { real: [0, FLOAT_LIMIT], default: 0.06 },
    regItem: { real: [0, FLOAT_LIMIT], default: 0.06 },
    biased: { bool: true, default: false },
    regBiasUser: { real: [0, FLOAT_LIMIT], default: 0.02 },
    regBiasItem: { real: [0, FLOAT_LIMIT], default: 0.02 },
    lrBiasUser: { real: [FLOAT_TINY, FLOAT_LIMIT], default: 0.005 },
    lrBiasItem: { real: [FLOAT_TINY, FLOAT_LIMIT], default: 0.005 },
    initLow: { real: [0, FLOAT_LIMIT], default: 0 },
    initHigh: { real: [0, FLOAT_LIMIT], default: 1 },
    ...ratingScaleSpec,
  },
  rules: [ratingScaleRule, ordered('initLow', 'initHigh')],
};

/**
 * Non-negative matrix factorization by regularized multiplicative updates (Luo et al. 2014), Surprise's NMF
 * with its defaults (15 factors, 50 epochs, reg 0.06, unbiased). Needs non-negative ratings. An unknown user or
 * item gets the global mean (unbiased) or mu plus the known side's bias (biased). Fold-in runs the same updates
 * on the new user's vector alone.
 */
export class NMF extends FactorRecommender<NMFParams> {
  readonly name = 'NMF';
  readonly tasks: readonly ModelTask[] = ['rating'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'NMF';
  }
  constructor(params: NMFParams = {}) {
    super(resolveParams('NMF', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitNMF(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }
}
