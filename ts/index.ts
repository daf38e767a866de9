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
  type FoldInOptions,
  type ModelState,
  type Recommendation,
  type RecommendOptions,
} from './models/base.js';
export { Popularity, Random, BaselineOnly, type BaselineOnlyParams } from './models/baseline.js';
export { info, type RecsysInfo } from './info.js';
export { plantedDataset, type PlantedOptions } from './data/synthetic.js';
export { FactorModel, type FromFactorsInput } from './models/factors.js';
export { models, modelEntry, type ModelEntry, type ModelTask } from './models/registry.js';
export { Rng } from './rng.js';
export {
  randomSplit,
  perUserSplit,
  leaveLastK,
  timeSplit,
  kFold,
  type TrainTest,
  type RandomSplitOptions,
  type PerUserSplitOptions,
  type LeaveLastKOptions,
  type TimeSplitOptions,
  type KFoldOptions,
} from './data/split.js';
export {
  evaluate,
  crossValidate,
  type EvaluateOptions,
  type EvaluationResult,
  type CrossValidateOptions,
  type CrossValidateResult,
  type MetricName,
  type RatingMetric,
  type RankingMetric,
  type Scorer,
  type Fittable,
} from './eval/evaluate.js';
export {
  evaluateSequential,
  sequentialSplit,
  userSequence,
  type EvaluateSequentialOptions,
  type HeldOutNext,
  type SequenceScorer,
  type SequentialResult,
  type SequentialSplit,
} from './eval/sequential.js';
export type { FromFileOptions, FileFormat, ColumnMapping, ColumnRef } from './data/parse.js';
export type { ItemInfoFormat } from './data/iteminfo.js';
export {
  findDatasetDir,
  detectMovieLens,
  loadMovieLens,
  loadPredefinedFolds,
  type DatasetLocation,
  type LoadFoldsOptions,
  type LoadMovieLensOptions,
  type MovieLensFiles,
  type MovieLensLayout,
  type PredefinedFold,
} from './data/movielens.js';
export { ImplicitALS, type ImplicitALSParams, type PartialFitOptions } from './models/als.js';
export { BPR, type BPRParams } from './models/bpr.js';
export { LightGCN, type LightGCNParams } from './models/lightgcn.js';
export { ItemKNN, type ItemKNNParams } from './models/itemknn.js';
export { EASE, type EASEParams } from './models/ease.js';
export { SANSA, type SANSAParams } from './models/sansa.js';
export { PureSVD, truncatedSVD, type PureSVDParams, type TruncatedSVD, type TruncatedSVDOptions } from './models/puresvd.js';
export type { DuckDBReadOptions, DuckDBCsvOptions } from './data/bigdata.js';
export { exportParquet, type ExportParquetOptions, type ExportParquetResult } from './data/export_parquet.js';
export type { DuckDBOptions } from './data/duckdb.js';
export type { LeastSquaresFoldIn } from './models/factors.js';
export {
  loadSparkALS,
  exportSparkALS,
  readSparkALSInfo,
  type LoadSparkALSOptions,
  type ExportSparkALSOptions,
  type SparkALSInfo,
  type SparkALSParams,
} from './models/spark.js';
export {
  loadModel,
  loadModelAsync,
  loadModelWithInfo,
  loadModelWithInfoAsync,
  readModelInfo,
  registerModelClass,
  type LoadOptions,
  type ModelFileInfo,
} from './io/load.js';
export { MODEL_FORMAT_VERSION, type ModelFileMeta } from './io/format.js';
export {
  createRecommender,
  type CreateRecommenderOptions,
  type RecommenderService,
  type ServedModel,
  type RequestOptions,
  type ItemScore,
  type ReloadResult,
  type BatchEntry,
  type ServiceLogger,
} from './serve/recommender.js';
export { recsysPlugin, type RecsysPluginOptions } from './serve/plugin.js';
export { createServer, type ServerOptions, type RecsysServer } from './serve/server.js';
export {
  createExperiment,
  experimentArm,
  userBucket,
  type ExperimentOptions,
  type ExperimentService,
  type ExperimentStatus,
  type Arm,
  type ArmAnswer,
} from './serve/experiment.js';
export type { IngestEvent, IngestResult, RefitResult } from './serve/recommender.js';
export {
  EventLog,
  type ArchiveRetention,
  type EventLogOptions,
  type EventLogPruning,
  type EventLogRecovery,
  type EventLogStats,
  type LoggedEvent,
  type PruneResult,
} from './serve/eventlog.js';
export { BiasedMF, type SgdMfParams } from './models/biased_mf.js';
export { SVDpp, type SVDppParams } from './models/svdpp.js';
export { ExplicitALS, type ExplicitALSParams } from './models/explicit_als.js';
export { KNNBasic, KNNWithMeans, KNNBaseline, type KNNParams, type KNNSimilarity } from './models/rating_knn.js';
export { NMF, type NMFParams } from './models/nmf.js';
export { SlopeOne, type SlopeOneParams } from './models/slope_one.js';
export { NeuMF, GMF, MLP, type NcfParams, type NeuMFParams } from './models/deep/ncf.js';
export { MultVAE, type MultVAEParams } from './models/deep/multvae.js';
export { RecVAE, type RecVAEParams } from './models/deep/recvae.js';
export { ItemTransitions, type ItemTransitionsParams } from './models/transitions.js';
export { SASRec, type SASRecParams } from './models/deep/sasrec.js';
export { AutoRec, type AutoRecParams } from './models/deep/autorec.js';
export { DeepRecommender, type DeepParams, type FromStateInput, type StateTensors } from './models/deep/base.js';
export { initDeepBackend, deepBackendInfo, type DeepBackendInfo, type DeepBackendName, type InitDeepBackendOptions } from './models/deep/backend.js';
export { deepInfo } from './info.js';
export {
  ItemAttributes,
  compileFilter,
  type ItemFilter,
  type AttributeCondition,
  type AttributeValue,
  type ItemAttributeRecord,
  type AttributeFileOptions,
} from './serve/attributes.js';
export { recommendWithRules, type RuleOptions, type BoostRule, type PinRule, type DiversityOptions, type RuledRecommendation } from './serve/rules.js';
export { explain, explainHistory, canExplain, type Explanation, type Contribution, type ExplainOptions } from './models/explain.js';
