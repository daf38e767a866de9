import { RecsysError, argError, native, nativeAsync, show } from '../errors.js';
import { isSealed, type Dataset } from '../data/dataset.js';
import { unknownIdError, type Id } from '../data/idmap.js';
import { addon, type FitOptionsNative, type FitProgress, type NativeModel, type TopKResult } from '../native.js';
import { saveModel, type ModelState } from '../io/format.js';
import { defaultMaxMemoryBytes, sameSpec, specOf, type ModelSpec } from './params.js';
import { annSpec, syncAnn, syncAnnAsync, type AnnIndexInfo } from './ann.js';

export type { FitProgress } from '../native.js';
export type { ModelState } from '../io/format.js';

/**
 * What a model is for: rating prediction (its predict() is a rating: RMSE/MAE apply) or top-N ranking (its scores
 * only order items), or both. Every model class declares it; evaluate() picks its default metrics from it.
 */
export type ModelTask = 'rating' | 'ranking';

/** Options every model accepts. */
export interface CommonParams {
  /** Worker threads for fitting and batch recommendation; 0 = all hardware threads. Default 0. */
  threads?: number;
  /** Seed of every random choice; the same seed and thread count give the same model. Default 42. */
  seed?: number;
  /**
   * The most memory a fit may allocate, in bytes. Every model estimates its large allocations (factors, Gram and
   * item-item matrices, neighbour lists ...) before making them and refuses with E_MEMORY, saying how many bytes
   * for what, when they would exceed this. Default: half of the physical memory.
   */
  maxMemoryBytes?: number;
}

export interface FitOptions {
  /** Called after each epoch / iteration / phase with progress and, where computed, the training loss. */
  onProgress?: (p: FitProgress) => void;
  /** Cancels an async fit; the promise rejects with code E_CANCELLED. */
  signal?: AbortSignal;
}

export interface RecommendOptions {
  /** How many items. Default 10. Fewer come back when fewer candidates remain. */
  k?: number;
  /** Leave out items the user interacted with in training. Default true. */
  filterSeen?: boolean;
  /** Items never to recommend. Unknown ids are ignored. */
  exclude?: readonly Id[];
  /** When given, the only candidates (an empty list gives no recommendations). Unknown ids are ignored. */
  include?: readonly Id[];
}

export interface Recommendation {
  item: Id;
  score: number;
}

/** A new user's interactions, for fold-in: item ids and optional ratings or weights. */
export interface FoldInInput {
  items: readonly Id[];
  ratings?: readonly number[];
}

/** recommendForNewUser's options: those of recommend, and what to do when none of the given items is known. */
export interface FoldInOptions extends RecommendOptions {
  /**
   * When none of the given items is known to the model (or none is given): 'error' (default) throws
   * E_UNKNOWN_ITEM; 'popularity' returns the items with the most training interactions (score = that count),
   * which the caller asked for and can tell apart (it happens exactly when no given item is known).
   */
  fallback?: 'error' | 'popularity';
}

/**
 * The one estimator shape of recsys: fit / fitAsync, recommend, recommendBatch, recommendForNewUser (fold-in),
 * similarItems, similarUsers, predict. Users and items are named by external ids. A family implements only
 * fitNative(); everything else runs on the native model handle it returns.
 */
export abstract class Recommender<P extends CommonParams = CommonParams> {
  /** The model's class name as it appears in reports and files. */
  abstract readonly name: string;
  /** What the model's outputs mean: 'rating' (predict() is a rating), 'ranking' (scores only order items), or both. */
  abstract readonly tasks: readonly ModelTask[];
  readonly params: Readonly<P>;
  protected handle?: NativeModel;
  protected trainSet?: Dataset;

  constructor(params: P) {
    this.params = Object.freeze(sameSpec(params, { ...params }));
    validateCommon(this.params);
  }

  /** Fits the model's native state; run.async selects the worker-thread path. */
  protected abstract fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel>;

  /**
   * The options a native fit receives: every option of the model's spec, since the native readers hold no
   * defaults and require each one. maxMemoryBytes not given is defaultMaxMemoryBytes() of this machine; an
   * option whose default depends on the data and was not given goes as null, which the native fit reads as
   * "take it from the data" (ratingMin / ratingMax: the training ratings' range). A family that computes such a
   * default in TS overrides this (PureSVD's factors).
   */
  protected nativeParams(_train: Dataset): Record<string, unknown> {
    const p = this.params as Readonly<Record<string, unknown>>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.paramSpec.params)) out[key] = p[key] ?? null;
    out.maxMemoryBytes = this.params.maxMemoryBytes ?? defaultMaxMemoryBytes();
    return out;
  }

  /** Fits on the event-loop thread (blocks it). Use fitAsync in servers. */
  fit(train: Dataset, options: Pick<FitOptions, 'onProgress'> = {}): this {
    checkTrain(train);
    const h = native(() => this.fitNative(train, { async: false, sealed: isSealed(train), onProgress: options.onProgress }));
    if (h instanceof Promise) throw new RecsysError('E_STATE', `${this.name}.fitNative returned a promise for a sync fit`);
    this.handle = h;
    this.trainSet = train;
    this.prepareServing();
    return this;
  }

  /** Fits on a worker thread; the event loop stays free. Progress arrives through onProgress. */
  async fitAsync(train: Dataset, options: FitOptions = {}): Promise<this> {
    checkTrain(train);
    const cancel = new Int32Array(1);
    const { signal } = options;
    if (signal?.aborted) throw new RecsysError('E_CANCELLED', 'fit was cancelled before it started');
    const onAbort = () => {
      cancel[0] = 1;
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const h = await nativeAsync(
        Promise.resolve(native(() => this.fitNative(train, { async: true, sealed: isSealed(train), onProgress: options.onProgress, cancel }))),
      );
      this.handle = h;
      this.trainSet = train;
      await this.prepareServingAsync();
      return this;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Writes the fitted model to one file (a safetensors file with recsys metadata and a checksum; see loadModel).
   * The write is atomic: a temporary file in the same directory, flushed to disk, then renamed over `path`, so a
   * crash mid-save leaves the previous file intact.
   */
  save(path: string): void {
    saveModel(this, path);
  }

  /**
   * The state a model file stores. Native families need nothing here (their native model's state() is complete
   * and a restorer registered with the same kind rebuilds it); a family whose state lives in TS overrides this and
   * importState.
   */
  exportState(): ModelState {
    const h = this.nativeModel;
    return { kind: h.kind, users: h.nUsers, items: h.nItems, tensors: h.state() };
  }

  /** Rebuilds the fitted state from exportState()'s output and the model's params (already set). */
  protected importState(state: ModelState): void {
    this.handle = addon.restoreModel(state.kind, { users: state.users, items: state.items }, state.tensors, this.params);
  }

  /** The options this model takes: name, type, range, default (ts/models/params.ts). */
  get paramSpec(): ModelSpec {
    return specOf(this.params) ?? { params: {} };
  }

  /** The kind of fitted state this class saves and restores; loadModel refuses a file whose kind differs. */
  get stateKind(): string {
    return this.name;
  }

  /**
   * Makes `model` a fitted model over `train` from a native handle or a saved state (used by loadModel).
   * @internal
   */
  static attachState(model: Recommender, state: NativeModel | ModelState, train: Dataset): void {
    if ('tensors' in state) model.importState(state);
    else model.handle = state;
    model.trainSet = train;
    if ('tensors' in state) model.checkLoaded();
    model.prepareServing();
  }

  /**
   * Hook: readies a fitted or loaded model for serving (factor models build their approximate top-K index here
   * when their options ask for one). fitAsync awaits prepareServingAsync instead.
   */
  protected prepareServing(): void {}
  protected async prepareServingAsync(): Promise<void> {
    this.prepareServing();
  }

  /** Hook: checks a model restored from a file's tensors once its training data is attached (E_FORMAT). */
  protected checkLoaded(): void {}

  get fitted(): boolean {
    return this.handle !== undefined;
  }

  /** The native model (for evaluation and persistence). */
  get nativeModel(): NativeModel {
    if (!this.handle) throw new RecsysError('E_NOT_FITTED', `${this.name} is not fitted: call fit() or fitAsync() first`);
    return this.handle;
  }

  /** The dataset the model was fitted on (its id maps name the model's users and items). */
  get trainData(): Dataset {
    if (!this.trainSet) throw new RecsysError('E_NOT_FITTED', `${this.name} is not fitted: call fit() or fitAsync() first`);
    return this.trainSet;
  }

  // Native errors arrive as RecsysError already (ts/native.ts gives the addon our error class). The native(...)
  // wrappers left in this class are for what may run TS code instead: fitNative, and the handles of models whose
  // scores come from TS (the deep models), whose other errors they turn into RecsysError too.

  /** Top-k items for a known user. */
  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    const h = this.nativeModel;
    const train = this.trainData;
    const u = train.users.index(user);
    if (u < 0 || u >= h.nUsers) throw unknownIdError(train.users, user, 'user', `${this.name}: `, 'use recommendForNewUser for fold-in');
    const { k, filterSeen, exclude, include } = this.recommendArgs(options);
    const r = native(() => h.recommend(u, k, filterSeen ? train.userItems(u) : undefined, exclude, include));
    return this.toRecommendations(r);
  }

  /**
   * Top-k items for many users at once, multi-threaded, memory bounded by k per user. Returns one list per
   * requested user, in order. Unknown users throw E_UNKNOWN_USER (check with `trainData.users.has`).
   */
  recommendBatch(users: readonly Id[], options: RecommendOptions = {}): Recommendation[][] {
    const dense = this.userIndices(users);
    const { items, scores, counts, k } = this.recommendBatchDense(dense, options);
    const out: Recommendation[][] = [];
    for (let r = 0; r < dense.length; r++) {
      const list: Recommendation[] = [];
      for (let j = 0; j < counts[r]!; j++) list.push({ item: this.trainData.items.id(items[r * k + j]!), score: scores[r * k + j]! });
      out.push(list);
    }
    return out;
  }

  /** The dense form of recommendBatch: row r holds counts[r] item indices at items[r*k ..]. */
  recommendBatchDense(users: Int32Array, options: RecommendOptions = {}): TopKResult & { counts: Int32Array; k: number } {
    const h = this.nativeModel;
    const { k, filterSeen, exclude, include } = this.recommendArgs(options);
    const threads = this.params.threads ?? 0;
    return native(() => h.recommendBatch(users, k, filterSeen ? this.trainData.csr : undefined, exclude, include, threads));
  }

  /**
   * Top-k items for a user who was not in training, from the items they interacted with (fold-in, no refit).
   * Unknown item ids are ignored; when none is known, E_UNKNOWN_ITEM (or the popularity fallback: see
   * FoldInOptions). Models without fold-in throw E_UNSUPPORTED.
   */
  recommendForNewUser(input: FoldInInput, options: FoldInOptions = {}): Recommendation[] {
    const h = this.nativeModel;
    if (!input || !Array.isArray(input.items)) throw argError('recommendForNewUser expects { items: Id[], ratings?: number[] }');
    const fallback = options?.fallback ?? 'error';
    if (fallback !== 'error' && fallback !== 'popularity') throw argError(`fallback must be 'error' or 'popularity', got ${show(fallback)}`);
    if (input.ratings !== undefined && (!Array.isArray(input.ratings) || input.ratings.length !== input.items.length))
      throw argError('ratings must be an array with one entry per item');
    // Unknown ids are ignored, but a value that cannot be an id at all, or a rating that is not a number, is a mistake.
    for (let p = 0; p < input.items.length; p++) {
      const v: unknown = input.items[p];
      if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))))
        throw argError(`items[${p}] must be an item id (a string or a finite number), got ${show(v)}`);
    }
    if (input.ratings)
      for (let p = 0; p < input.ratings.length; p++) {
        const r: unknown = input.ratings[p];
        if (typeof r !== 'number' || !Number.isFinite(r) || Math.abs(r) > FLOAT32_MAX) throw argError(`ratings[${p}] must be a finite number, got ${show(r)}`);
      }
    const idx = this.trainData.items.indicesOf(input.items);
    const keep: number[] = [];
    for (let p = 0; p < idx.length; p++) if (idx[p]! >= 0 && idx[p]! < h.nItems) keep.push(p);
    // Without a known item every model would score from nothing (all zeros, in arbitrary order): refuse instead.
    if (keep.length === 0) {
      if (fallback === 'popularity') return this.popularItems(options);
      throw new RecsysError(
        'E_UNKNOWN_ITEM',
        `${this.name}: none of the ${input.items.length} given items is known to the model (pass fallback: 'popularity' for the most popular items instead)`,
      );
    }
    const items = Int32Array.from(keep, (p) => idx[p]!);
    const values = input.ratings ? Float32Array.from(keep, (p) => input.ratings![p]!) : undefined;
    const { k, filterSeen, exclude, include } = this.recommendArgs(options);
    return this.toRecommendations(native(() => h.recommendNew(items, values, k, filterSeen, exclude, include)));
  }

  /** Items most similar to an item (the item itself is excluded). */
  similarItems(item: Id, k = 10): Recommendation[] {
    const h = this.nativeModel;
    const i = this.trainData.items.index(item);
    if (i < 0 || i >= h.nItems) throw unknownIdError(this.trainData.items, item, 'item', `${this.name}: `);
    checkK(k);
    return this.toRecommendations(native(() => h.similarItems(i, k, Int32Array.of(i))));
  }

  /** Users most similar to a user (the user itself is excluded), as { item: userId, score }. */
  similarUsers(user: Id, k = 10): { user: Id; score: number }[] {
    const h = this.nativeModel;
    const u = this.trainData.users.index(user);
    if (u < 0 || u >= h.nUsers) throw unknownIdError(this.trainData.users, user, 'user', `${this.name}: `);
    checkK(k);
    const r = native(() => h.similarUsers(u, k, Int32Array.of(u)));
    return Array.from(r.items, (v, j) => ({ user: this.trainData.users.id(v), score: r.scores[j]! }));
  }

  /**
   * Predicted rating (rating models) or score (top-N models) of one pair. An unknown user or item takes the
   * model's fallback (global mean plus the known side's bias), as Surprise does; it never throws for that.
   */
  predict(user: Id, item: Id): number {
    return this.predictDense(Int32Array.of(this.trainData.users.index(user)), Int32Array.of(this.trainData.items.index(item)))[0]!;
  }

  /**
   * Ranking scores of every training item for each of the given dense users: row-major users.length x nItems.
   * Evaluation ranks through this; models whose scores are computed outside the native core override it.
   */
  scoreUsersDense(users: Int32Array): Float32Array {
    const h = this.nativeModel;
    return native(() => h.scoreUsers(users, this.params.threads ?? 0));
  }

  /** predict() for dense index pairs; -1 or indices past the training data mean unknown. */
  predictDense(users: Int32Array, items: Int32Array): Float32Array {
    const h = this.nativeModel;
    return native(() => h.predict(users, items, this.params.threads ?? 0));
  }

  protected recommendArgs(o: RecommendOptions): { k: number; filterSeen: boolean; exclude?: Int32Array; include?: Int32Array } {
    if (o === null || typeof o !== 'object') throw argError('recommend options must be an object');
    // Only undefined means "the default": null, '' or 0 given for an option are mistakes, not defaults.
    const k = o.k === undefined ? 10 : o.k;
    checkK(k);
    if (o.filterSeen !== undefined && typeof o.filterSeen !== 'boolean') throw argError(`filterSeen must be a boolean, got ${show(o.filterSeen)}`);
    const items = this.trainData.items;
    const known = (ids: readonly Id[] | undefined, name: string) => {
      if (ids === undefined) return undefined;
      if (!Array.isArray(ids)) throw argError(`${name} must be an array of item ids, got ${show(ids)}`);
      const idx = items.indicesOf(ids);
      return idx.filter((v) => v >= 0);
    };
    return { k, filterSeen: o.filterSeen ?? true, exclude: known(o.exclude, 'exclude'), include: known(o.include, 'include') };
  }

  protected userIndices(users: readonly Id[]): Int32Array {
    if (!Array.isArray(users)) throw argError('users must be an array of user ids');
    const idx = this.trainData.users.indicesOf(users);
    const n = this.nativeModel.nUsers;
    for (let p = 0; p < idx.length; p++) {
      if (idx[p]! < 0 || idx[p]! >= n) throw unknownIdError(this.trainData.users, users[p], 'user', `${this.name}: users[${p}]: `);
    }
    return idx;
  }

  private popular?: { data: Dataset; order: Int32Array; counts: Int32Array };

  /** The k items with the most training interactions (ties: lower index first), honouring exclude and include. */
  protected popularItems(options: RecommendOptions): Recommendation[] {
    const { k, exclude, include } = this.recommendArgs(options);
    const train = this.trainData;
    if (this.popular?.data !== train) {
      const n = Math.min(train.nItems, this.nativeModel.nItems);
      const counts = new Int32Array(n);
      for (const i of train.csr.indices) if (i < n) counts[i]!++;
      const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => counts[b]! - counts[a]! || a - b);
      this.popular = { data: train, order, counts };
    }
    const { order, counts } = this.popular;
    const skip = new Set(exclude);
    const only = include ? new Set(include) : undefined;
    const out: Recommendation[] = [];
    for (let j = 0; j < order.length && out.length < k; j++) {
      const i = order[j]!;
      if (!skip.has(i) && (!only || only.has(i))) out.push({ item: train.items.id(i), score: counts[i]! });
    }
    return out;
  }

  protected toRecommendations(r: TopKResult): Recommendation[] {
    const ids = this.trainData.items;
    return Array.from(r.items, (v, j) => ({ item: ids.id(v), score: r.scores[j]! }));
  }
}

/**
 * Factor models expose their fitted vectors, and serve top-K from an HNSW index over the item factors when their
 * ann options ask for one (ts/models/ann.ts).
 */
export abstract class FactorRecommender<P extends CommonParams = CommonParams> extends Recommender<P> {
  /** The fit never reads the ann options (they only shape serving): they are not sent to it. */
  protected override nativeParams(train: Dataset): Record<string, unknown> {
    const out = super.nativeParams(train);
    for (const key of Object.keys(annSpec)) delete out[key];
    return out;
  }
  protected override prepareServing(): void {
    syncAnn(this.nativeModel, this.params);
  }
  protected override async prepareServingAsync(): Promise<void> {
    await syncAnnAsync(this.nativeModel, this.params);
  }
  /** The approximate top-K index this model serves from, or null (exact top-K). */
  get annIndex(): AnnIndexInfo | null {
    const h = this.nativeModel;
    return h.annInfo?.() ?? null;
  }

  /** users x factors, row-major (a copy). */
  get userFactors(): Float32Array | undefined {
    return this.nativeModel.state().user_factors?.data as Float32Array | undefined;
  }
  /** items x factors, row-major (a copy). */
  get itemFactors(): Float32Array | undefined {
    return this.nativeModel.state().item_factors?.data as Float32Array | undefined;
  }
}

/** The largest finite float32: a rating beyond it would become Infinity in the native model. */
const FLOAT32_MAX = 3.4028234663852886e38;

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw argError(`k must be a non-negative integer, got ${show(k)}`);
}

function checkTrain(train: Dataset): void {
  if (!train || typeof train !== 'object' || !('csr' in train)) throw argError('fit expects a Dataset');
  if (train.nnz === 0) throw new RecsysError('E_EMPTY', 'cannot fit on an empty dataset');
}

export function validateCommon(p: CommonParams): void {
  if (p.threads !== undefined && (!Number.isInteger(p.threads) || p.threads < 0 || p.threads > 1024)) {
    throw argError(`threads must be an integer in [0, 1024], got ${show(p.threads)}`);
  }
  if (p.seed !== undefined && (!Number.isInteger(p.seed) || p.seed < 0 || p.seed > Number.MAX_SAFE_INTEGER)) {
    throw argError(`seed must be a non-negative safe integer, got ${show(p.seed)}`);
  }
}
