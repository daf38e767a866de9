import type { Dataset } from '../data/dataset.js';
import type { CsrMatrix, FitOptionsNative, NativeModel } from '../native.js';
import { Recommender, nativeFit, type CommonParams, type ModelTask } from './base.js';
import { checkParams } from './params.js';
import { checkRatingScale, ratingScaleSpec, type RatingScaleParams } from './rating.js';

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

const spec = {
  k: { int: [1, 2 ** 31 - 1] },
  minK: { int: [0, 2 ** 31 - 1] },
  userBased: { bool: true },
  similarity: { oneOf: SIMILARITIES },
  shrinkage: { real: [0, Infinity] },
  minSupport: { int: [0, 2 ** 31 - 1] },
  maxNeighbors: { int: [0, 2 ** 31 - 1] },
  baselineEpochs: { int: [0, 100_000] },
  baselineRegUser: { real: [0, Infinity] },
  baselineRegItem: { real: [0, Infinity] },
  ...ratingScaleSpec,
} as const;

abstract class KNNRating extends Recommender<KNNParams> {
  protected abstract readonly mode: Mode;
  constructor(params: KNNParams, model: string) {
    super(params);
    checkParams(model, params, spec);
    checkRatingScale(model, params);
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return nativeFit<[CsrMatrix, CsrMatrix, object]>('fitKNN')(train.csr, train.csc, { ...this.params, mode: this.mode }, run);
  }
}

/**
 * Surprise's KNNBasic: the similarity-weighted mean of the k most similar neighbours' ratings. Unknown user or
 * item, or no usable neighbour: the global mean.
 */
export class KNNBasic extends KNNRating {
  readonly name = 'KNNBasic';
  readonly tasks: readonly ModelTask[] = ['rating'];
  protected readonly mode = 'basic';
  constructor(params: KNNParams = {}) {
    super(params, 'KNNBasic');
  }
}

/**
 * Surprise's KNNWithMeans: x's mean rating plus the weighted mean of the neighbours' deviations from theirs.
 * Unknown user or item: the known side's mean rating (the global mean when both are unknown).
 */
export class KNNWithMeans extends KNNRating {
  readonly name = 'KNNWithMeans';
  readonly tasks: readonly ModelTask[] = ['rating'];
  protected readonly mode = 'means';
  constructor(params: KNNParams = {}) {
    super(params, 'KNNWithMeans');
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
  protected readonly mode = 'baseline';
  constructor(params: KNNParams = {}) {
    super(params, 'KNNBaseline');
  }
}
