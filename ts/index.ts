// Public API of recsys.
export { RecsysError, type RecsysErrorCode } from './errors.js';
export { Dataset, type DatasetOptions, type DatasetStats, type DuplicatePolicy, type FromArraysInput, type ItemInfo } from './data/dataset.js';
export { IdMap, type Id } from './data/idmap.js';
export type { CsrMatrix, FitProgress, NativeInfo } from './native.js';
export {
  Recommender,
  FactorRecommender,
  type CommonParams,
  type FitOptions,
  type FoldInInput,
  type Recommendation,
  type RecommendOptions,
} from './models/base.js';
export { Popularity, Random, BaselineOnly, type BaselineOnlyParams } from './models/baseline.js';
export { info, type RecsysInfo } from './info.js';
export { plantedDataset, type PlantedOptions } from './data/synthetic.js';
export { FactorModel, type FromFactorsInput } from './models/factors.js';
export { models, modelEntry, type ModelEntry, type ModelTask } from './models/registry.js';
export { ImplicitALS, type ImplicitALSParams, type PartialFitOptions } from './models/als.js';
export { BPR, type BPRParams } from './models/bpr.js';
export { ItemKNN, type ItemKNNParams } from './models/itemknn.js';
export { EASE, type EASEParams } from './models/ease.js';
export { PureSVD, truncatedSVD, type PureSVDParams, type TruncatedSVD, type TruncatedSVDOptions } from './models/puresvd.js';
