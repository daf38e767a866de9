import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { Recommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_LIMIT, resolveParams, type ModelSpec } from './params.js';
import { ratingScaleRule, ratingScaleSpec, type RatingScaleParams } from './rating.js';

export type KNNSimilarity = 'msd' | 'cosine' | 'pearson' | 'pearson_baseline';
const SIMILARITIES: readonly KNNSimilarity[] = ['msd', 'cosine', 'pearson', 'pearson_baseline'];

export interface KNNParams extends CommonParams, RatingScaleParams {
  /** Most neighbours in one prediction. Default 40. */
  k?: number;
  /** Fewer usable neighbours (similarity > 0) than this: no neighbourhood term. Default 1. */
  minK?: number;
  /** Neighbours are users (true, default, as Surprise) or items (false). */
  userBased?: boolean;
  /** Default 'pearson_baseline' for KNNBaseline, 'msd' for KNNBasic / KNNWithMeans (Surprise's). */
  similarity?: KNNSimilarity;
  /** pearson_baseline shrinkage: sim * (n - 1) / (n - 1 + shrinkage), n common ratings. Default 100. */
  shrinkage?: number;
  /** Pairs with fewer common ratings have similarity 0. Default 1. */
  minSupport?: number;
  /**
   * Neighbours kept per row (only those with similarity > 0 are ever used). 0 = default: all of them while the
   * compared side has at most 4096 entries (then predictions follow Surprise's rule exactly), else the 512 most
   * similar. Memory is about 8 bytes per kept neighbour, never a dense |X|^2 matrix.
   */
  maxNeighbors?: number;
  /** Baselines (ALS, Surprise's defaults): epochs 10, regUser 15, regItem 10. */
  baselineEpochs?: number;
  baselineRegUser?: number;
  baselineRegItem?: number;
}

type Mode = 'basic' | 'means' | 'baseline';

function knnSpec(similarity: KNNSimilarity): ModelSpec {
  return {
    params: {
      k: { int: [1, 2 ** 31 - 1], default: 40 },
      minK: { int: [0, 2 ** 31 - 1], default: 1 },
      userBased: { bool: true, default: true },
      similarity: { oneOf: SIMILARITIES, default: similarity },
      shrinkage: { real: [0, FLOAT_LIMIT], default: 100 },
      minSupport: { int: [0, 2 ** 31 - 1], default: 1 },
      // 0 = all while the compared side has at most 4096 entries, else 512
      maxNeighbors: { int: [0, 2 ** 31 - 1], default: 0 },
      baselineEpochs: { int: [0, 100_000], default: 10 },
      baselineRegUser: { real: [0, FLOAT_LIMIT], default: 15 },
      baselineRegItem: { real: [0, FLOAT_LIMIT], default: 10 },
      ...ratingScaleSpec,
    },
    rules: [ratingScaleRule],
  };
}

abstract class KNNRating extends Recommender<KNNParams> {
  protected abstract readonly mode: Mode;
  constructor(params: KNNParams | undefined, model: string, similarity: KNNSimilarity) {
    super(resolveParams(model, params, knnSpec(similarity)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitKNN(csrOf(train), cscOf(train), { ...this.nativeParams(train), mode: this.mode }, run);
  }
}

/**
 * Surprise's KNNBasic: the similarity-weighted mean of the k most similar neighbours' ratings. Unknown user or
 * item, or no usable neighbour: the global mean.
 */
export class KNNBasic extends KNNRating {
  readonly name = 'KNNBasic';
  readonly tasks: readonly ModelTask[] = ['rating'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'KNNBasic';
  }
  protected readonly mode = 'basic';
  constructor(params: KNNParams = {}) {
    super(params, 'KNNBasic', 'msd');
  }
}

/**
 * Surprise's KNNWithMeans: x's mean rating plus the weighted mean of the neighbours' deviations from theirs.
 * Unknown user or item: the known side's mean rating (the global mean when both are unknown).
 */
export class KNNWithMeans extends KNNRating {
  readonly name = 'KNNWithMeans';
  readonly tasks: readonly ModelTask[] = ['rating'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'KNNWithMeans';
  }
  protected readonly mode = 'means';
  constructor(params: KNNParams = {}) {
    super(params, 'KNNWithMeans', 'msd');
  }
}

/**
 * Surprise's KNNBaseline (Koren 2010): the baseline mu + b_u + b_i plus the weighted mean of the neighbours'
 * deviations from their baselines; pearson_baseline similarity with shrinkage 100, k 40, minK 1 by default.
 * Unknown user or item: mu plus the known side's bias. Fold-in: the new user's bias, then the same rule.
 */
export class KNNBaseline extends KNNRating {
  readonly name = 'KNNBaseline';
  readonly tasks: readonly ModelTask[] = ['rating'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'KNNBaseline';
  }
  protected readonly mode = 'baseline';
  constructor(params: KNNParams = {}) {
    super(params, 'KNNBaseline', 'pearson_baseline');
  }
}
