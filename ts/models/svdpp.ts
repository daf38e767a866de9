import { withAnn } from './ann.js';
import { csrOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type ModelTask } from './base.js';
import { sgdSpec, type SgdMfParams } from './biased_mf.js';
import { FLOAT_TINY, FLOAT_LIMIT, resolveParams, type ModelSpec } from './params.js';
import { ratingScaleRule } from './rating.js';

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
const spec: ModelSpec = {
  params: {
    ...sgdWithoutBlocks,
    factors: { ...sgdSpec.factors!, default: 20 },
    lr: { ...sgdSpec.lr!, default: 0.007 },
    lrY: { real: [FLOAT_TINY, FLOAT_LIMIT], derive: (p) => p.lr as number },
    regY: { real: [0, FLOAT_LIMIT], derive: (p) => p.reg as number },
  },
  rules: [ratingScaleRule, (p) => ((p.lrY as number) * (p.regY as number) >= 1 ? 'lrY * regY must be < 1' : undefined)],
};

export class SVDpp extends FactorRecommender<SVDppParams> {
  readonly name = 'SVDpp';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'SVDpp';
  }
  constructor(params: SVDppParams = {}) {
    super(resolveParams('SVDpp', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitSVDpp(csrOf(train), this.nativeParams(train), run);
  }
}
