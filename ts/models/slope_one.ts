import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { Recommender, type CommonParams, type ModelTask } from './base.js';
import { resolveParams, type ModelSpec } from './params.js';
import { ratingScaleRule, ratingScaleSpec, type RatingScaleParams } from './rating.js';

const spec: ModelSpec = { params: { weighted: { bool: true, default: false }, ...ratingScaleSpec }, rules: [ratingScaleRule] };

export interface SlopeOneParams extends CommonParams, RatingScaleParams {
  /**
   * false (default): Surprise's SlopeOne, the user's mean plus the mean deviation dev(i, j) over their items j.
   * true: weighted Slope One, sum (dev(i, j) + r_uj) c_ij / sum c_ij with c_ij the users who rated both.
   */
  weighted?: boolean;
}

/**
 * Slope One (Lemire & Maclachlan 2005) as Surprise's SlopeOne, or weighted. Item-pair deviations are stored
 * sparsely (pairs with common users only). Unknown item: the user's mean; unknown user: the global mean.
 * Fold-in applies the rule to the new user's ratings. No similarity queries (E_UNSUPPORTED).
 */
export class SlopeOne extends Recommender<SlopeOneParams> {
  readonly name = 'SlopeOne';
  readonly tasks: readonly ModelTask[] = ['rating'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'SlopeOne';
  }
  constructor(params: SlopeOneParams = {}) {
    super(resolveParams('SlopeOne', params, spec));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitSlopeOne(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }
}
