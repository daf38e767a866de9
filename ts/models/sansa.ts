import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { Recommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, resolveParams, type ModelSpec } from './params.js';

export interface SANSAParams extends CommonParams {
  /** L2 regularization, as EASE's lambda (the same model at density 1). Default 500. */
  lambda?: number;
  /**
   * The share of the items x items lower triangle the sparse factors may fill, in (0, 1]: the LDL^T factor keeps
   * at most density * items^2 / 2 entries (and its approximate inverse about as many). 1 drops nothing (EASE's
   * weights exactly). Large catalogues need small values: 1M items at 2e-5 keep ~10 entries per item. Default 0.2.
   */
  density?: number;
  /** Treat every interaction as r = 1 (ignore ratings / counts). Default false. */
  binary?: boolean;
  /**
   * The fit refuses (E_MEMORY, before allocating) when the factors' entry budget would need more bytes than this.
   * Default: half of the machine's physical memory.
   */
  maxMemoryBytes?: number;
}

const spec: ModelSpec = {
  params: {
    lambda: { real: [FLOAT_TINY, 1e15], default: 500 },
    density: { real: [FLOAT_TINY, 1], default: 0.2 },
    binary: { bool: true, default: false },
  },
};

/**
 * SANSA (Spisak et al. 2023): EASE's zero-diagonal item-item model for catalogues too large for an items x items
 * matrix. An incomplete LDL^T of X^T X + lambda I (popularity order, a budget of `density` entries) and a sparse
 * approximate inverse of its unit-lower factor give the weights as two sparse factors; scores are two sparse
 * products. Memory grows with density * items^2, not items^2. similarItems ranks by the approximate weights; there
 * is no similarUsers.
 */
export class SANSA extends Recommender<SANSAParams> {
  readonly name = 'SANSA';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'SANSA';
  }
  constructor(params: SANSAParams = {}) {
    super(resolveParams('SANSA', params, spec));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitSANSA(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }
}
