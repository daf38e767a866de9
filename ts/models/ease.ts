import { csrOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { Recommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, resolveParams, type ModelSpec } from './params.js';

export interface EASEParams extends CommonParams {
  /** L2 regularization of the item-item weights. Default 500 (the best of a sweep on ML-100K). */
  lambda?: number;
  /** Treat every interaction as r = 1 (ignore ratings / counts). Default false. */
  binary?: boolean;
  /**
   * The fit refuses (E_MEMORY, before allocating) when its items x items float matrix would need more bytes than
   * this. Default: half of the machine's physical memory.
   */
  maxMemoryBytes?: number;
  /** How X^T X is formed: syrk over dense blocks of users, a sparse accumulation, or the cheaper ('auto'). Default 'auto'. */
  gram?: 'auto' | 'dense' | 'sparse';
}

const spec: ModelSpec = {
  params: {
    lambda: { real: [FLOAT_TINY, 1e15], default: 500 },
    binary: { bool: true, default: false },
    gram: { oneOf: ['auto', 'dense', 'sparse'], default: 'auto', state: false },
  },
};

/**
 * EASE (Steck 2019): a linear item-item model with a zero diagonal, in closed form from (X^T X + lambda I)^-1.
 * Strong on top-N benchmarks; memory and time grow with items^2 and items^3 (fine to tens of thousands of items).
 * similarItems ranks by the learned weights; there is no similarUsers.
 */
export class EASE extends Recommender<EASEParams> {
  readonly name = 'EASE';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'EASE';
  }
  constructor(params: EASEParams = {}) {
    super(resolveParams('EASE', params, spec));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitEASE(csrOf(train), this.nativeParams(train), run);
  }
}
