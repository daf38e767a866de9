// Evaluation of a fitted model on a test set: rating metrics over the test pairs, ranking metrics over the full
// catalogue (each user's training items excluded), and the sampled protocol of the NCF paper. Ranking runs in
// blocks of users: the model scores a block (block x nItems floats, bounded memory), then one native call
// computes every requested metric at every cutoff for the block, in parallel over users. Models scored in TS
// (overriding scoreUsersDense) go through the same path.
import { RecsysError, argError, native, show } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import type { Id } from '../data/idmap.js';
import { kFold, type TrainTest } from '../data/split.js';
import { addon, type CsrMatrix } from '../native.js';
import type { ModelTask } from '../models/base.js';

/**
 * Metric names, used in `metrics` and (with "@K" for the ranking ones) as keys of the result.
 *
 * Rating (over every test pair; a user or item the model has not seen is predicted by the model's fallback, the
 * global mean plus the known side's bias, and COUNTED, as Surprise does):
 * - rmse, mae.
 *
 * Ranking over the full catalogue, each user's training items excluded, ties broken by the smaller item index.
 * "hits" = test items among the top K. Values are averaged over test users (users with at least one test item,
 * known to the model and, unless coldUsers is 'include', with training interactions). The first five names
 * follow MS Recommenders' python_evaluation exactly:
 * - precision@K = hits / K (MS precision_at_k, Spark's precisionAt);
 * - recall@K = hits / |test| (MS recall_at_k);
 * - ndcg@K = DCG / ideal DCG with discount 1/log2(rank + 1) and gain 1 per hit (MS ndcg_at_k, binary); the ideal
 *   DCG fills min(K, |test|) places. gain: 'raw' uses the test rating as the gain, 'exp' uses 2^rating - 1, the
 *   ideal list then being the user's largest test gains (MS score_type 'raw' / 'exp');
 * - map@K = sum over hits of (hits so far / rank), divided by min(K, |test|) (MS map_at_k, Spark's
 *   meanAveragePrecisionAt);
 * - map_full@K = the same sum divided by |test| (MS `map`, its map_at_k before version 1.2, and the MAP column of
 *   its published MovieLens-100k benchmark table);
 * - recall_min@K = hits / min(K, |test|) per user (recall that can reach 1 for users with more than K test items);
 * - precision_implicit@K = (sum of hits) / (sum of min(K, |test|)) over users: implicit's precision_at_k, a ratio
 *   of totals rather than a mean over users;
 * - mrr@K = 1 / rank of the first hit (0 without one); hit_rate@K = share of users with at least one hit;
 * - auc = per-user share of (test item, other item) pairs the model orders right (ties count half), over items it
 *   can score: positives = test items in the catalogue and not in train, negatives = the catalogue minus train
 *   and test items (Rendle et al. 2009); mean over users for whom it is defined. Not implicit's top-K-limited AUC;
 * - coverage@K = distinct items in at least one evaluated user's top K / catalogue size.
 * Test items the model cannot rank (in the user's training items, or not in the training catalogue) still count
 * in |test|, so they lower recall and NDCG as in MS Recommenders.
 *
 * Sampled protocol (He et al. 2017, NCF): each test item is ranked against `negatives` (default 99) items drawn
 * uniformly, without replacement, from the items the user has in neither train nor test; a negative with an equal
 * score ranks above the test item. sampled_hit_rate@K = share of test items ranked in the top K;
 * sampled_ndcg@K = 1/log2(rank + 1) when in the top K. Per user the mean over test items (items the model cannot
 * rank count as misses), then the mean over users. One random stream per user, so the result does not depend on
 * the thread count.
 */
export type RatingMetric = 'rmse' | 'mae';
export type RankingMetric =
  | 'precision'
  | 'recall'
  | 'ndcg'
  | 'map'
  | 'map_full'
  | 'recall_min'
  | 'precision_implicit'
  | 'mrr'
  | 'hit_rate'
  | 'auc'
  | 'coverage'
  | 'sampled_hit_rate'
  | 'sampled_ndcg';
export type MetricName = RatingMetric | RankingMetric;

const RATING: readonly string[] = ['rmse', 'mae'];
/** Every ranking metric's name (the reference evaluator uses the same list). */
export const RANKING: readonly string[] = [
  'precision',
  'recall',
  'ndcg',
  'map',
  'map_full',
  'recall_min',
  'precision_implicit',
  'mrr',
  'hit_rate',
  'auc',
  'coverage',
  'sampled_hit_rate',
  'sampled_ndcg',
];

/** What evaluate needs from a model: any Recommender qualifies; a TS-scored model overrides scoreUsersDense. */
export interface Scorer {
  /** The model's name, for messages. */
  readonly name?: string;
  /**
   * What the model is for (every Recommender declares it). The default metrics follow it, and rmse / mae of a model
   * without 'rating' are refused: its scores only order items, they are not ratings. Absent: both are allowed.
   */
  readonly tasks?: readonly ModelTask[];
  /** The training data (its id maps name the model's users and items; its sizes are the model's). */
  readonly trainData: Dataset;
  /** Scores of every training item for each user: users.length x trainData.nItems, row-major. */
  scoreUsersDense(users: Int32Array): Float32Array;
  /** Predictions for (user, item) index pairs; -1 or indices past the training data mean unknown. */
  predictDense(users: Int32Array, items: Int32Array): Float32Array;
}

export interface EvaluateOptions {
  /** Items excluded from each user's ranking. Default the model's training data (same id maps required). */
  train?: Dataset;
  /** Cutoff(s) of the ranking metrics. Default 10. */
  k?: number | readonly number[];
  /**
   * Default from the model's tasks: rmse and mae for a rating model (the test needs ratings), precision, recall,
   * ndcg and map for a ranking model, both for a model of both tasks (rmse / mae only when the test has ratings).
   * rmse / mae of a ranking-only model (ImplicitALS, BPR, EASE, NeuMF ...) are E_ARG.
   */
  metrics?: readonly MetricName[];
  /** Threads for the per-user metric computation; 0 = all hardware threads. Default 0. */
  threads?: number;
  /** NDCG gain: 'binary' (default, MS Recommenders' default), 'raw' rating, or 'exp' 2^rating - 1. */
  gain?: 'binary' | 'raw' | 'exp';
  /** When set, only test interactions rated at least this count as relevant in ranking metrics. */
  relevanceThreshold?: number;
  /** Users with no training interactions: 'skip' (default) or 'include' (ranked by the model's fallback). */
  coldUsers?: 'skip' | 'include';
  /** Sampled negatives per test item for the sampled_* metrics. Default 99. */
  negatives?: number;
  /** Seed of the negative sampling. Default 42. */
  seed?: number;
  /** Users scored per block (memory: block x nItems floats). Default: about 64 MiB of scores, at most 4096. */
  blockSize?: number;
}

/** Metric name (with "@K" for ranking metrics) -> value; "users" = how many test users the ranking averaged. */
export type EvaluationResult = Record<string, number>;

/** Evaluates a fitted model on a test set that shares the model's id maps (or is remapped to them by id). */
export function evaluate(model: Scorer, test: Dataset, options: EvaluateOptions = {}): EvaluationResult {
  if (!model || typeof model !== 'object' || typeof model.scoreUsersDense !== 'function') throw argError('evaluate expects a fitted model');
  if (!test || typeof test !== 'object' || !('csr' in test)) throw argError('evaluate expects a test Dataset');
  const o = readOptions(options, test, model);
  const trainData = model.trainData;
  const train = o.train ?? trainData;
  if (train.users !== trainData.users || train.items !== trainData.items) {
    throw argError("options.train must share the model's id maps (use the Datasets a split or fold returned)");
  }
  if (test.nnz === 0) throw new RecsysError('E_EMPTY', 'the test set has no interactions');
  const space = toModelSpace(trainData, test);
  const out: EvaluationResult = {};
  if (o.metrics.some((m) => RATING.includes(m))) Object.assign(out, ratingMetrics(model, space, o.metrics));
  if (o.metrics.some((m) => RANKING.includes(m))) Object.assign(out, rankingMetrics(model, train, space, o));
  return out;
}

export interface CrossValidateOptions extends Omit<EvaluateOptions, 'train'> {
  /** Folds when given a Dataset. Default 5. */
  folds?: number;
  /** Shuffle before cutting folds. Default true. */
  shuffle?: boolean;
}

export interface CrossValidateResult {
  /** Mean over folds of each metric, and of fit_time / test_time (seconds). */
  mean: Record<string, number>;
  /** Standard deviation over folds (population, ddof 0, as Surprise prints it). */
  std: Record<string, number>;
  /** Each fold's metrics, with fit_time and test_time. */
  folds: Record<string, number>[];
}

/** The model shape crossValidate fits. */
export interface Fittable extends Scorer {
  fit(train: Dataset): unknown;
}

/**
 * Fits a fresh model per fold and evaluates it on the fold's test set (as Surprise's cross_validate): given a
 * Dataset it makes `folds` KFold folds (seeded); given an array of { train, test } it uses those folds.
 */
export function crossValidate(
  makeModel: (fold: number) => Fittable,
  data: Dataset | readonly TrainTest[],
  options: CrossValidateOptions = {},
): CrossValidateResult {
  if (typeof makeModel !== 'function') throw argError('crossValidate expects a function that makes a new model');
  const { folds: nFolds, shuffle, ...evalOptions } = options ?? {};
  const folds = Array.isArray(data) ? (data as readonly TrainTest[]) : kFold(data as Dataset, { folds: nFolds ?? 5, seed: options.seed, shuffle });
  if (folds.length === 0) throw argError('crossValidate needs at least one fold');
  const results: Record<string, number>[] = [];
  folds.forEach((fold, f) => {
    if (!fold || typeof fold !== 'object' || !fold.train || !fold.test) throw argError(`fold ${f} must be { train, test }`);
    const model = makeModel(f);
    const t0 = performance.now();
    model.fit(fold.train);
    const t1 = performance.now();
    const r = evaluate(model, fold.test, { ...evalOptions, train: fold.train });
    const t2 = performance.now();
    results.push({ ...r, fit_time: (t1 - t0) / 1000, test_time: (t2 - t1) / 1000 });
  });
  const mean: Record<string, number> = {};
  const std: Record<string, number> = {};
  for (const key of Object.keys(results[0]!)) {
    const v = results.map((r) => r[key]!);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    mean[key] = m;
    std[key] = Math.sqrt(v.reduce((a, b) => a + (b - m) * (b - m), 0) / v.length);
  }
  return { mean, std, folds: results };
}

// ---- internals -----------------------------------------------------------------------------------------

interface Resolved {
  train?: Dataset;
  ks: number[];
  metrics: string[];
  threads: number;
  gain: 'binary' | 'raw' | 'exp';
  relevanceThreshold?: number;
  coldUsers: 'skip' | 'include';
  negatives: number;
  seed: number;
  blockSize?: number;
}

const RANKING_DEFAULT = ['precision', 'recall', 'ndcg', 'map'];

/** The metrics evaluate computes when none are asked for, from what the model is for. */
export function defaultMetrics(tasks: readonly ModelTask[] | undefined, test: Dataset): string[] {
  if (tasks === undefined) return [...(test.hasRatings ? RATING : []), ...RANKING_DEFAULT];
  const rating = tasks.includes('rating');
  const ranking = tasks.includes('ranking');
  if (rating && !ranking) return [...RATING]; // the test's ratings are checked below
  return [...(rating && test.hasRatings ? RATING : []), ...(ranking ? RANKING_DEFAULT : [])];
}

function readOptions(options: EvaluateOptions, test: Dataset, model: Scorer): Resolved {
  if (options === null || typeof options !== 'object') throw argError('evaluate options must be an object');
  // Checked as unknown: a JS caller may pass anything (and Array.isArray would widen the list to any[]).
  const kv: unknown = options.k ?? 10;
  const kList: readonly unknown[] | undefined = typeof kv === 'number' ? [kv] : Array.isArray(kv) ? kv : undefined;
  if (!kList || kList.length === 0) throw argError('k must be a positive integer or a non-empty array of them');
  const kChecked: number[] = [];
  for (const k of kList) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 2 ** 31 - 1) throw argError(`k must be an integer >= 1, got ${show(k)}`);
    kChecked.push(k);
  }
  const ks = [...new Set(kChecked)].sort((a, b) => a - b);
  if (!Array.isArray(options.metrics ?? [])) throw argError('metrics must be an array of metric names');
  const tasks = model.tasks;
  if (tasks !== undefined && (!Array.isArray(tasks) || tasks.length === 0)) throw argError('model.tasks must list what the model is for');
  const metrics = options.metrics ? [...options.metrics] : defaultMetrics(tasks, test);
  for (const m of metrics)
    if (!RATING.includes(m) && !RANKING.includes(m)) throw argError(`unknown metric ${JSON.stringify(m)}; known: ${[...RATING, ...RANKING].join(', ')}`);
  if (metrics.length === 0) throw argError('metrics must name at least one metric');
  const asked = metrics.filter((m) => RATING.includes(m));
  if (asked.length && tasks !== undefined && !tasks.includes('rating')) {
    throw argError(
      `${asked.join(' and ')} ${asked.length > 1 ? 'do' : 'does'} not apply to ${model.name ?? 'this model'}: it is a ranking model, its scores ` +
        `order items and are not ratings; use ranking metrics (${RANKING_DEFAULT.join(', ')}, ...)`,
    );
  }
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0 || threads > 1024) throw argError(`threads must be an integer in [0, 1024], got ${show(threads)}`);
  const gain = options.gain ?? 'binary';
  if (gain !== 'binary' && gain !== 'raw' && gain !== 'exp') throw argError(`gain must be 'binary', 'raw' or 'exp', got ${show(gain)}`);
  if (gain !== 'binary' && !test.hasRatings) throw argError(`gain '${gain}' needs ratings in the test data`);
  const rt = options.relevanceThreshold;
  if (rt !== undefined && (typeof rt !== 'number' || !Number.isFinite(rt))) throw argError('relevanceThreshold must be a finite number');
  if (rt !== undefined && !test.hasRatings) throw argError('relevanceThreshold needs ratings in the test data');
  const coldUsers = options.coldUsers ?? 'skip';
  if (coldUsers !== 'skip' && coldUsers !== 'include') throw argError(`coldUsers must be 'skip' or 'include', got ${show(coldUsers)}`);
  const negatives = options.negatives ?? 99;
  if (!Number.isInteger(negatives) || negatives < 1 || negatives > 1 << 24) throw argError(`negatives must be an integer >= 1, got ${show(negatives)}`);
  const seed = options.seed ?? 42;
  if (!Number.isSafeInteger(seed) || seed < 0) throw argError(`seed must be a non-negative safe integer, got ${show(seed)}`);
  const bs = options.blockSize;
  if (bs !== undefined && (!Number.isInteger(bs) || bs < 1)) throw argError(`blockSize must be an integer >= 1, got ${show(bs)}`);
  if (metrics.some((m) => RATING.includes(m)) && !test.hasRatings) throw argError('rmse and mae need ratings in the test data');
  return { train: options.train, ks, metrics, threads, gain, relevanceThreshold: rt, coldUsers, negatives, seed, blockSize: bs };
}

/** The test set as a CSR over the model's indices: users past the model are extra rows, unseen items extra columns. */
interface ModelSpaceTest {
  csr: CsrMatrix;
  /** Users of the model (rows < nUsers) and items (columns < nItems) are the model's; the rest are unknown. */
  nUsers: number;
  nItems: number;
}

function toModelSpace(train: Dataset, test: Dataset): ModelSpaceTest {
  const nUsers = train.nUsers;
  const nItems = train.nItems;
  if (test.users === train.users && test.items === train.items) return { csr: test.csr, nUsers, nItems };
  // A test set built separately: map its ids to the model's; unknown ids get fresh indices past the model's.
  const coo = test.toCoo();
  const extraUsers: Id[] = [];
  const extraItems: Id[] = [];
  const userIdx = train.users.indicesOf(test.users.ids, extraUsers);
  const itemIdx = train.items.indicesOf(test.items.ids, extraItems);
  const n = coo.rows.length;
  const r = new Int32Array(n);
  const c = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    r[p] = userIdx[coo.rows[p]!]!;
    c[p] = itemIdx[coo.cols[p]!]!;
  }
  const built = native(() => addon.buildCsr(nUsers + extraUsers.length, nItems + extraItems.length, r, c, coo.values, coo.times, 'last'));
  const { duplicates: _d, ...csr } = built;
  return { csr, nUsers, nItems };
}

function ratingMetrics(model: Scorer, space: ModelSpaceTest, metrics: string[]): EvaluationResult {
  const { indptr, indices, data } = space.csr;
  const n = indices.length === 0 ? 0 : indptr[space.csr.rows]!;
  const users = new Int32Array(n);
  for (let u = 0; u < space.csr.rows; u++) users.fill(u, indptr[u]!, indptr[u + 1]!);
  const items = indices.subarray(0, n);
  const pred = model.predictDense(users, items);
  if (pred.length !== n) throw new RecsysError('E_STATE', `predictDense returned ${pred.length} values for ${n} pairs`);
  let se = 0;
  let ae = 0;
  for (let p = 0; p < n; p++) {
    const e = pred[p]! - data![p]!;
    se += e * e;
    ae += Math.abs(e);
  }
  const out: EvaluationResult = {};
  if (metrics.includes('rmse')) out.rmse = Math.sqrt(se / n);
  if (metrics.includes('mae')) out.mae = ae / n;
  return out;
}

function rankingMetrics(model: Scorer, train: Dataset, space: ModelSpaceTest, o: Resolved): EvaluationResult {
  let test = space.csr;
  if (o.relevanceThreshold !== undefined) test = keepRelevant(test, o.relevanceThreshold);
  const { nUsers, nItems } = space;
  const tIndptr = test.indptr;
  const trIndptr = train.csr.indptr;
  const users: number[] = [];
  for (let u = 0; u < Math.min(nUsers, test.rows); u++) {
    if (tIndptr[u + 1]! === tIndptr[u]!) continue;
    if (o.coldUsers === 'skip' && trIndptr[u + 1]! === trIndptr[u]!) continue;
    users.push(u);
  }
  if (users.length === 0) throw new RecsysError('E_EMPTY', 'no test user can be ranked (no test user is known to the model with training interactions)');
  const want = (m: string) => o.metrics.includes(m);
  const sampled = want('sampled_hit_rate') || want('sampled_ndcg');
  const minRank = want('coverage') ? new Int32Array(nItems).fill(2 ** 31 - 1) : undefined;
  const ksArr = Int32Array.from(o.ks);
  const nk = o.ks.length;
  const cols = 2 + 4 * nk + (sampled ? 2 * nk : 0);
  // Per-k sums in user order (deterministic for any thread count or block size).
  const sum = {
    precision: new Float64Array(nk),
    recall: new Float64Array(nk),
    recallMin: new Float64Array(nk),
    ndcg: new Float64Array(nk),
    map: new Float64Array(nk),
    mapFull: new Float64Array(nk),
    mrr: new Float64Array(nk),
    hit: new Float64Array(nk),
    hitsTotal: new Float64Array(nk),
    denomTotal: new Float64Array(nk),
    sHr: new Float64Array(nk),
    sNdcg: new Float64Array(nk),
  };
  let aucSum = 0;
  let aucUsers = 0;
  const block = o.blockSize ?? Math.max(1, Math.min(4096, Math.floor(2 ** 24 / Math.max(1, nItems))));
  for (let b0 = 0; b0 < users.length; b0 += block) {
    const blockUsers = Int32Array.from(users.slice(b0, b0 + block));
    const scores = model.scoreUsersDense(blockUsers);
    if (!(scores instanceof Float32Array) || scores.length !== blockUsers.length * nItems) {
      throw new RecsysError('E_STATE', `scoreUsersDense returned ${scores?.length} scores for ${blockUsers.length} users x ${nItems} items`);
    }
    const r = native(() =>
      addon.rankingMetrics(scores, nItems, blockUsers, train.csr, test, ksArr, {
        gain: o.gain,
        auc: want('auc'),
        negatives: sampled ? o.negatives : 0,
        seed: o.seed,
        threads: o.threads,
        minRank,
      }),
    );
    if (r.columns !== cols) throw new RecsysError('E_STATE', `rankingMetrics returned ${r.columns} columns, expected ${cols}`);
    const v = r.values;
    for (let j = 0; j < blockUsers.length; j++) {
      const row = j * cols;
      const nTest = v[row]!;
      const auc = v[row + 1]!;
      if (!Number.isNaN(auc)) {
        aucSum += auc;
        aucUsers++;
      }
      for (let q = 0; q < nk; q++) {
        const k = o.ks[q]!;
        const c = row + 2 + 4 * q;
        const hits = v[c]!;
        const denom = Math.min(k, nTest);
        sum.precision[q]! += hits / k;
        sum.recall[q]! += hits / nTest;
        sum.recallMin[q]! += hits / denom;
        sum.ndcg[q]! += v[c + 1]!;
        sum.map[q]! += v[c + 2]! / denom;
        sum.mapFull[q]! += v[c + 2]! / nTest;
        sum.mrr[q]! += v[c + 3]!;
        sum.hit[q]! += hits > 0 ? 1 : 0;
        sum.hitsTotal[q]! += hits;
        sum.denomTotal[q]! += denom;
        if (sampled) {
          sum.sHr[q]! += v[row + 2 + 4 * nk + 2 * q]!;
          sum.sNdcg[q]! += v[row + 2 + 4 * nk + 2 * q + 1]!;
        }
      }
    }
  }
  const nU = users.length;
  const out: EvaluationResult = {};
  o.ks.forEach((k, q) => {
    if (want('precision')) out[`precision@${k}`] = sum.precision[q]! / nU;
    if (want('recall')) out[`recall@${k}`] = sum.recall[q]! / nU;
    if (want('ndcg')) out[`ndcg@${k}`] = sum.ndcg[q]! / nU;
    if (want('map')) out[`map@${k}`] = sum.map[q]! / nU;
    if (want('map_full')) out[`map_full@${k}`] = sum.mapFull[q]! / nU;
    if (want('recall_min')) out[`recall_min@${k}`] = sum.recallMin[q]! / nU;
    if (want('precision_implicit')) out[`precision_implicit@${k}`] = sum.hitsTotal[q]! / sum.denomTotal[q]!;
    if (want('mrr')) out[`mrr@${k}`] = sum.mrr[q]! / nU;
    if (want('hit_rate')) out[`hit_rate@${k}`] = sum.hit[q]! / nU;
    if (want('coverage')) {
      let covered = 0;
      for (let i = 0; i < nItems; i++) if (minRank![i]! < k) covered++;
      out[`coverage@${k}`] = covered / nItems;
    }
    if (want('sampled_hit_rate')) out[`sampled_hit_rate@${k}`] = sum.sHr[q]! / nU;
    if (want('sampled_ndcg')) out[`sampled_ndcg@${k}`] = sum.sNdcg[q]! / nU;
  });
  if (want('auc')) out.auc = aucUsers > 0 ? aucSum / aucUsers : NaN;
  out.users = nU;
  return out;
}

/** The test CSR restricted to interactions rated at least `threshold`. */
function keepRelevant(m: CsrMatrix, threshold: number): CsrMatrix {
  const { indptr, indices, data, times } = m;
  const keep: number[] = [];
  const newPtr = new Int32Array(m.rows + 1);
  for (let u = 0; u < m.rows; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) if (data![p]! >= threshold) keep.push(p);
    newPtr[u + 1] = keep.length;
  }
  return {
    rows: m.rows,
    cols: m.cols,
    indptr: newPtr,
    indices: Int32Array.from(keep, (p) => indices[p]!),
    data: Float32Array.from(keep, (p) => data![p]!),
    times: times ? Float64Array.from(keep, (p) => times[p]!) : undefined,
  };
}
