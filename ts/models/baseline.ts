import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { Recommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, FLOAT_LIMIT, resolveParams, type ModelSpec } from './params.js';
import { ratingScaleRule, ratingScaleSpec } from './rating.js';

const none: ModelSpec = { params: {} };

/** Most interacted-with items first (the same list for everyone, minus what they have seen). */
export class Popularity extends Recommender<CommonParams> {
  readonly name = 'Popularity';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'Popularity';
  }
  constructor(params: CommonParams = {}) {
    super(resolveParams('Popularity', params, none));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative) {
    return addon.fitPopularity(csrOf(train), this.nativeParams(train), run);
  }
}

/** Uniformly random scores (seeded): the floor every model must beat. */
export class Random extends Recommender<CommonParams> {
  readonly name = 'Random';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'Random';
  }
  constructor(params: CommonParams = {}) {
    super(resolveParams('Random', params, none));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative) {
    return addon.fitRandom(csrOf(train), this.nativeParams(train), run);
  }
}

export interface BaselineOnlyParams extends CommonParams {
  /** 'als' (Surprise's default) or 'sgd'. */
  method?: 'als' | 'sgd';
  /** Default 10 for ALS, 20 for SGD. */
  epochs?: number;
  /** ALS regularization of user biases. Default 15. */
  regUser?: number;
  /** ALS regularization of item biases. Default 10. */
  regItem?: number;
  /** SGD regularization. Default 0.02. */
  reg?: number;
  /** SGD learning rate. Default 0.005. */
  lr?: number;
  /** Predictions are clipped to [ratingMin, ratingMax]; default the training data's range. */
  ratingMin?: number;
  ratingMax?: number;
}

const baselineSpec: ModelSpec = {
  params: {
    method: { oneOf: ['als', 'sgd'], default: 'als' },
    epochs: { int: [0, 100000], derive: (p) => (p.method === 'sgd' ? 20 : 10) },
    regUser: { real: [0, FLOAT_LIMIT], default: 15 },
    regItem: { real: [0, FLOAT_LIMIT], default: 10 },
    reg: { real: [0, FLOAT_LIMIT], default: 0.02 },
    lr: { real: [FLOAT_TINY, FLOAT_LIMIT], default: 0.005 },
    ...ratingScaleSpec,
  },
  rules: [ratingScaleRule],
};

/**
 * Global mean + user bias + item bias, fitted by alternating least squares (Koren 2010; Surprise's
 * BaselineOnly with its defaults reg_u 15, reg_i 10, 10 epochs). Needs ratings.
 */
export class BaselineOnly extends Recommender<BaselineOnlyParams> {
  readonly name = 'BaselineOnly';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'BaselineOnly';
  }
  constructor(params: BaselineOnlyParams = {}) {
    super(resolveParams('BaselineOnly', params, baselineSpec));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitBaselineOnly(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }
}
