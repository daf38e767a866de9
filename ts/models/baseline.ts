import { argError, show } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import type { CsrMatrix, FitOptionsNative, NativeModel } from '../native.js';
import { Recommender, nativeFit, type CommonParams, type ModelTask } from './base.js';

/** Most interacted-with items first (the same list for everyone, minus what they have seen). */
export class Popularity extends Recommender<CommonParams> {
  readonly name = 'Popularity';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  constructor(params: CommonParams = {}) {
    super(params);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative) {
    return nativeFit<[CsrMatrix, object]>('fitPopularity')(train.csr, { maxMemoryBytes: this.params.maxMemoryBytes }, run);
  }
}

/** Uniformly random scores (seeded): the floor every model must beat. */
export class Random extends Recommender<CommonParams> {
  readonly name = 'Random';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  constructor(params: CommonParams = {}) {
    super(params);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative) {
    return nativeFit<[CsrMatrix, object]>('fitRandom')(train.csr, { seed: this.params.seed ?? 42 }, run);
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

/**
 * Global mean + user bias + item bias, fitted by alternating least squares (Koren 2010; Surprise's
 * BaselineOnly with its defaults reg_u 15, reg_i 10, 10 epochs). Needs ratings.
 */
export class BaselineOnly extends Recommender<BaselineOnlyParams> {
  readonly name = 'BaselineOnly';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  constructor(params: BaselineOnlyParams = {}) {
    super(params);
    if (params.method !== undefined && params.method !== 'als' && params.method !== 'sgd') throw argError(`method must be 'als' or 'sgd', got ${show(params.method)}`);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return nativeFit<[CsrMatrix, CsrMatrix, object]>('fitBaselineOnly')(train.csr, train.csc, { ...this.params }, run);
  }
}
