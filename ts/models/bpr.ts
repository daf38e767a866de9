import { withAnn, type AnnParams } from './ann.js';
import { csrOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, resolveParams, type ModelSpec } from './params.js';

export interface BPRParams extends CommonParams, AnnParams {
  /** Latent factors (item biases come on top). Default 64. */
  factors?: number;
  /** SGD learning rate. Default 0.01. */
  lr?: number;
  /** L2 regularization of factors and item biases. Default 0.01. */
  reg?: number;
  /** Epochs; each draws as many (user, positive, negative) triples as there are interactions. Default 100. */
  epochs?: number;
  /** Report the mean BPR loss -log sigmoid(x_uij) of each epoch's samples through onProgress. Default false. */
  computeLoss?: boolean;
}

const spec: ModelSpec = {
  params: {
    factors: { int: [1, 4096], default: 64 },
    lr: { real: [FLOAT_TINY, 1e6], default: 0.01 },
    reg: { real: [0, 1e6], default: 0.01 },
    epochs: { int: [0, 1000000], default: 100 },
    computeLoss: { bool: true, default: false, state: false },
  },
};

/**
 * Bayesian Personalized Ranking (Rendle et al. 2009): matrix factorization with item biases, trained by SGD on
 * (user, seen item, unseen item) triples with uniform negative sampling (a negative the user has seen is drawn
 * again). Interaction values are ignored. With threads > 1 the threads update shared factors without locks
 * (Hogwild, as implicit does), so only a single-threaded fit is exactly reproducible from its seed; multi-threaded
 * fits differ slightly from run to run. Fold-in of a new user runs the same SGD on that user's vector alone.
 */
export class BPR extends FactorRecommender<BPRParams> {
  readonly name = 'BPR';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'BPR';
  }
  constructor(params: BPRParams = {}) {
    super(resolveParams('BPR', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitBPR(csrOf(train), this.nativeParams(train), run);
  }
}
