import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { Recommender, type CommonParams, type ModelTask } from './base.js';
import { resolveParams, type ModelSpec } from './params.js';

export interface ItemKNNParams extends CommonParams {
  /** Item weighting before the dot products: as implicit's CosineRecommender, TFIDFRecommender, BM25Recommender. Default 'cosine'. */
  similarity?: 'cosine' | 'tfidf' | 'bm25';
  /** Neighbours kept per item (the item itself is not one). Default 20. */
  k?: number;
  /** BM25 term-frequency saturation. Default 1.2. */
  k1?: number;
  /** BM25 length normalization in [0, 1]. Default 0.75. */
  b?: number;
  /** Treat every interaction as r = 1 (ignore ratings / counts). Default false. */
  binary?: boolean;
}

const spec: ModelSpec = {
  params: {
    similarity: { oneOf: ['cosine', 'tfidf', 'bm25'], default: 'cosine' },
    k: { int: [1, 1 << 20], default: 20 },
    k1: { real: [0, 1e6], default: 1.2 },
    b: { real: [0, 1], default: 0.75 },
    binary: { bool: true, default: false },
  },
};

/**
 * Item-item nearest neighbours for implicit feedback. Each item keeps its k most similar items (a sparse list);
 * a user's score for an item sums the user's interaction values times the similarities from the items they
 * interacted with. similarItems returns at most k neighbours; there is no similarUsers.
 */
export class ItemKNN extends Recommender<ItemKNNParams> {
  readonly name = 'ItemKNN';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'ItemKNN';
  }
  constructor(params: ItemKNNParams = {}) {
    super(resolveParams('ItemKNN', params, spec));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitItemKNN(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }
}
