import type { Dataset } from '../data/dataset.js';
import type { CsrMatrix, FitOptionsNative, NativeModel } from '../native.js';
import { argError } from '../errors.js';
import { FactorRecommender, nativeFit, type ModelTask } from './base.js';
import { sgdSpec, type SgdMfParams } from './biased_mf.js';
import { checkParams, type ParamSpec } from './params.js';
import { checkRatingScale } from './rating.js';

export interface SVDppParams extends Omit<SgdMfParams, 'blocks'> {
  /** Learning rate of the implicit-feedback factors y_j. Default lr. */
  lrY?: number;
  /** Regularization of y_j. Default reg. */
  regY?: number;
}

/**
 * SVD++ (Koren 2008): biased MF whose user vector adds |N(u)|^-1/2 sum y_j over the items the user rated. Defaults
 * as Surprise's SVDpp (20 factors, 20 epochs, lr 0.007, reg 0.02, init N(0, 0.1)); the implicit sum is computed
 * once per user per epoch instead of once per rating (the same update sequence as Surprise's, at a fraction of the
 * cost). The SGD runs on one thread (a user's y_j step touches every item they rated, so no conflict-free
 * parallel schedule exists); `threads` only parallelizes the final scoring vectors. Fold-in uses the
 * new user's items for the implicit part, then SGD on their vector; without ratings, the implicit part alone.
 */
const { blocks: _blocks, ...sgdWithoutBlocks } = sgdSpec;
const spec: Record<string, ParamSpec> = {
  ...sgdWithoutBlocks,
  lrY: { real: [0, Infinity], open: true },
  regY: { real: [0, Infinity] },
};

export class SVDpp extends FactorRecommender<SVDppParams> {
  readonly name = 'SVDpp';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  constructor(params: SVDppParams = {}) {
    super(params);
    checkParams(this.name, params, spec);
    checkRatingScale(this.name, params);
    const lrY = this.params.lrY ?? this.params.lr ?? 0.007;
    const regY = this.params.regY ?? this.params.reg ?? 0.02;
    if (lrY * regY >= 1) throw argError(`${this.name}: lrY * regY must be < 1`);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return nativeFit<[CsrMatrix, object]>('fitSVDpp')(train.csr, { ...this.params }, run);
  }
}
