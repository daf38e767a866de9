// The common part of the deep models (NeuMF/GMF/MLP, AutoRec, Mult-VAE): the training loop (sync or async,
// per-epoch progress with the validation metric, early stopping, cancellation), scoring through TensorFlow.js
// behind the same NativeModel handle the native models have (so recommend, recommendBatch, evaluate ... work
// unchanged), and state() / fromState() for the model files.
import { RecsysError, argError, show } from '../../errors.js';
import { Dataset } from '../../data/dataset.js';
import { IdMap, type Id } from '../../data/idmap.js';
import { perUserSplit } from '../../data/split.js';
import { evaluate } from '../../eval/evaluate.js';
import { type FitOptionsNative, type FitProgress, type NativeModel, type TopKResult } from '../../native.js';
import { Recommender, type CommonParams, type ModelState } from '../base.js';
import { ScoredHandle, topkOfRow } from '../scored.js';
import { WASM_HEAP_BYTES, backendFailure, deepBackendInfo, engineMark, guardBackend, initDeepBackend, requireTfjs, tfSync, type Tf } from './backend.js';
import { ParamStore, type StateTensors } from './params.js';
import { FLOAT_LIMIT, defaultMaxMemoryBytes, type ParamSpec } from '../params.js';

export type { StateTensors } from './params.js';

/** Options every deep model accepts. */
export interface DeepParams extends CommonParams {
  /** Passes over the training data. */
  epochs?: number;
  /** Examples (NeuMF), users (Mult-VAE) or items (AutoRec) per step. */
  batchSize?: number;
  /** Learning rate. */
  lr?: number;
  /**
   * Share of the training interactions held out to choose the epoch (early stopping): per user for the top-N
   * models (metric ndcg@10), at random for AutoRec (metric rmse). The model keeps the weights of its best epoch.
   * Default 0: no hold-out, every epoch runs.
   */
  validation?: number;
  /** Epochs without improvement of the validation metric before stopping. Default 5. */
  patience?: number;
  /** 'adam' (default) or plain 'sgd', for every weight (embedding tables take lazy, row-wise steps). */
  optimizer?: 'adam' | 'sgd';
  /**
   * The fit refuses (E_MEMORY, before allocating) when its estimated memory (weights, optimizer moments, one
   * batch's activations, scoring blocks) exceeds this many bytes. Default: half of the machine's physical memory.
   */
  maxMemoryBytes?: number;
}

/** What a fit is estimated to need, in bytes, before anything is allocated (see DeepRecommender.memoryNeed). */
export interface MemoryNeed {
  /** Host typed arrays: weights, optimizer moments, the epoch's samples, one batch's copies. */
  host: number;
  /** TensorFlow.js tensors alive at once, at the peak of a training step or of a scoring block (on wasm: its heap). */
  tensors: number;
  /** Values in the largest single array (host or tensor). */
  largest: number;
  /** What dominates, for the message (e.g. 'embeddings 2 x 1000 x 10000000'). */
  detail: string;
}

/** What of the wasm heap tensors may take (the rest: fragmentation, the module's own data). */
const WASM_TENSOR_BYTES = Math.floor(WASM_HEAP_BYTES * 0.875);
/** Values a JavaScript typed array can hold. */
const MAX_ARRAY = 2 ** 32;
const gib = (b: number) => (b < 2 ** 20 ? `${Math.round(b)} bytes` : b < 2 ** 30 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 2 ** 30).toFixed(1)} GiB`);

/** E_STATE for a fit that diverged; the one check of every deep model (the loss each epoch, then the weights). */
export function divergedError(model: string, what: string, epoch: number): RecsysError {
  return new RecsysError('E_STATE', `${model}: ${what} in epoch ${epoch}: the fit diverged; try a smaller lr`);
}

/** Outputs (logits, log-probabilities, ratings) beyond this mean the fit diverged. */
const MAX_OUTPUT = 1e18;

/** Values checked between yields by checkFinite (a few ms of work). */
const FINITE_CHUNK = 2 ** 21;

/**
 * Throws divergedError when the epoch's loss or any weight is NaN or infinite, yielding between chunks so that a
 * cancelled async fit stops within a few ms even for huge tables.
 */
export function* checkFinite(model: string, loss: number, w: ParamStore, epoch: number): Generator<void, void, void> {
  if (!Number.isFinite(loss)) throw divergedError(model, `the training loss became ${loss}`, epoch);
  for (const name of w.names()) {
    const a = w.get(name);
    for (let lo = 0; lo < a.length; lo += FINITE_CHUNK) {
      const hi = Math.min(a.length, lo + FINITE_CHUNK);
      let z = 0;
      for (let j = lo; j < hi; j++) z += a[j]! * 0; // NaN as soon as one value is NaN or +-Infinity
      if (z !== 0) {
        let j = lo;
        while (Number.isFinite(a[j]!)) j++;
        throw divergedError(model, `weight ${name}[${j}] became ${a[j]}`, epoch);
      }
      if (hi < a.length) yield;
    }
  }
}

/**
 * The types and ranges of the shared deep options (their defaults differ per model: DeepRecommender.defaults()).
 * Each deep model resolves its options with these plus its own (ts/models/params.ts).
 */
export const deepSpec: Readonly<Record<string, ParamSpec>> = {
  epochs: { int: [1, 1_000_000] },
  batchSize: { int: [1, 2 ** 31 - 1] },
  lr: { real: [0, FLOAT_LIMIT], open: true },
  validation: { real: [0, 0.999999] },
  patience: { int: [1, 1_000_000] },
  optimizer: { oneOf: ['adam', 'sgd'] },
};

export type DeepDefaults = Required<Pick<DeepParams, 'epochs' | 'batchSize' | 'lr' | 'validation' | 'patience'>>;

/** One epoch's work, as the training loop sees it. */
export interface EpochPlan {
  steps: number;
  /**
   * Runs step s and returns its mean loss over the mini-batch; a step whose work is long (huge rows) is a
   * generator that yields between parts of it, so a cancelled async fit stops within one part.
   */
  step(s: number): number | Generator<void, number, void>;
}

export interface Trainer {
  weights: ParamStore;
  epochs: number;
  epoch(e: number): EpochPlan;
}

export interface ValidationResult {
  metric: string;
  value: number;
  higherIsBetter: boolean;
}

/** What fromState needs besides the tensors. */
export interface FromStateInput<P> {
  /** External user ids, one per user row of the state (or the IdMap of the training data). */
  users: readonly Id[] | IdMap;
  /** External item ids, one per item row. */
  items: readonly Id[] | IdMap;
  /** The model's parameters as they were when it was fitted (the model file keeps them). */
  params?: P;
  /** Interactions to leave out of recommendations (models that store their training data take it from the state). */
  seen?: Dataset;
}

const toIdMap = (ids: readonly Id[] | IdMap, what: string): IdMap => {
  if (ids instanceof IdMap) return ids;
  if (!Array.isArray(ids)) throw argError(`${what} must be an array of ids or an IdMap`);
  const m = IdMap.build(ids, what).map;
  if (m.size !== ids.length) throw argError(`${what} has repeated ids`);
  return m;
};

let checkDependency = true;

/**
 * @internal Runs f with the constructor's TensorFlow.js check off: the model registry reads each deep model's
 * tasks from a throw-away instance, which needs no TensorFlow.js, so that recsys lists its models without it.
 */
export function withoutDependencyCheck<T>(f: () => T): T {
  checkDependency = false;
  try {
    return f();
  } finally {
    checkDependency = true;
  }
}

export abstract class DeepRecommender<P extends DeepParams = DeepParams> extends Recommender<P> {
  /** Fitted weights (host memory). */
  protected weights?: ParamStore;
  /**
   * The interactions scoring reads (Mult-VAE encodes a user's items, AutoRec an item's ratings): the training set
   * after a fit, the state's own copy after fromState or loadModel (a model file's train matrix has no values).
   */
  protected inputData?: Dataset;

  /** Defaults of the shared options for this model. */
  protected abstract defaults(): DeepDefaults;
  /** @internal Allocates and initialises the weights for `data` and returns the per-epoch work. */
  protected abstract makeTrainer(tf: Tf, data: Dataset, full: Dataset): Trainer;
  /** @internal Scores of every item for users (rows may be -1: unknown), from weights w and input interactions `data`. */
  protected abstract scoreRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array): Float32Array;
  /** Expected shapes of the state tensors for the given sizes (fromState checks against them). */
  protected abstract stateShapes(nUsers: number, nItems: number): Record<string, number[]>;
  /** The fit's memory on `data`, estimated from the sizes alone (nothing allocated). */
  protected abstract memoryNeed(data: Dataset): MemoryNeed;

  /** Optimizer state per weight: Adam keeps two moments beside it. */
  protected optimizerCopies(): number {
    return (this.params.optimizer ?? 'adam') === 'adam' ? 3 : 1;
  }

  /**
   * Refuses, before anything is allocated, a fit that cannot work: E_MEMORY above maxMemoryBytes, above what one
   * typed array holds, or (on wasm) above the 4 GiB heap that no setting can raise.
   */
  protected checkMemory(train: Dataset): void {
    const need = this.memoryNeed(train);
    const total = need.host + need.tensors;
    const max = this.params.maxMemoryBytes ?? defaultMaxMemoryBytes();
    const sizes = `${train.nUsers} users x ${train.nItems} items`;
    if (need.largest > MAX_ARRAY) {
      throw new RecsysError(
        'E_MEMORY',
        `${this.name} would need one array of ${need.largest} values (${need.detail}; ${sizes}), more than a JavaScript typed array holds (2^32); reduce the model's sizes`,
      );
    }
    if (deepBackendInfo()?.tfBackend === 'wasm' && need.tensors > WASM_TENSOR_BYTES) {
      throw new RecsysError(
        'E_MEMORY',
        `${this.name} would need about ${gib(need.tensors)} of TensorFlow.js tensors at once (${need.detail}; ${sizes}), more than the wasm backend's ${gib(WASM_HEAP_BYTES)} heap holds (32-bit addresses: no setting raises it); reduce the model's sizes or batchSize, or install @tensorflow/tfjs-node`,
      );
    }
    if (total > max) {
      throw new RecsysError(
        'E_MEMORY',
        `${this.name} needs about ${gib(total)} (${need.detail}; ${sizes}), more than maxMemoryBytes = ${Math.round(max)} (${gib(max)}); raise maxMemoryBytes or reduce the model's sizes`,
      );
    }
  }

  /** E_DEPENDENCY (with the npm install line) when TensorFlow.js, an optional peer of recsys, is not installed. */
  constructor(params: P) {
    super(params);
    if (checkDependency) requireTfjs(new.target.name);
    validateDeep(params);
  }

  /** A shared option: the parameter if given, else this model's default. */
  protected opt<K extends keyof DeepDefaults>(key: K): DeepDefaults[K] {
    return this.params[key] ?? this.defaults()[key];
  }

  // ---- fitting ---------------------------------------------------------------------------------------------

  /** The fit: synchronous (tfjs ops with dataSync) or, with run.async, a promise that yields to the event loop. */
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    if (!run.async) {
      const tf = tfSync();
      this.checkMemory(train);
      return guardBackend(this.name, () => {
        const gen = this.fitSteps(tf, train, run);
        while (!gen.next().done);
        return this.finish(gen, train);
      });
    }
    return (async () => {
      await initDeepBackend();
      const tf = tfSync();
      this.checkMemory(train);
      const mark = engineMark();
      try {
        const gen = this.fitSteps(tf, train, run);
        let last = performance.now();
        for (;;) {
          if (run.cancel?.[0]) {
            gen.return(undefined);
            throw new RecsysError('E_CANCELLED', `${this.name}: fit was cancelled`);
          }
          if (gen.next().done) break;
          if (performance.now() - last > 25) {
            await new Promise<void>((r) => setImmediate(r));
            last = performance.now();
          }
        }
        return this.finish(gen, train);
      } catch (err) {
        throw backendFailure(this.name, err, mark);
      }
    })();
  }

  private fitResult?: ParamStore;

  private finish(_gen: Generator, train: Dataset): NativeModel {
    const w = this.fitResult;
    if (!w) throw new RecsysError('E_STATE', `${this.name}: the fit produced no weights`);
    this.fitResult = undefined;
    w.dropMoments();
    this.weights = w;
    this.inputData = train;
    this.afterFit(train);
    return new DeepHandle(this, train.nUsers, train.nItems);
  }

  /** Hook: caches computed from the final weights. */
  protected afterFit(_train: Dataset): void {}

  /** @internal The whole fit as steps: yields after every optimizer step (the async driver decides when to let I/O in). */
  protected *fitSteps(tf: Tf, train: Dataset, run: FitOptionsNative): Generator<void, void, void> {
    const v = this.opt('validation');
    let fitPart = train;
    let valid: Dataset | undefined;
    if (v > 0) {
      try {
        ({ fitPart, valid } = this.validationSplit(train, v));
      } catch (e) {
        // A fraction so small that it holds out nothing of this data is an option that does not fit the data.
        if (e instanceof RecsysError && e.code === 'E_EMPTY')
          throw argError(
            `${this.name}: validation = ${show(v)} holds out no interaction of these ${train.nnz}; give 0 to fit without validation, or a larger fraction`,
          );
        throw e;
      }
    }
    const t0 = performance.now();
    const trainer = this.makeTrainer(tf, fitPart, train);
    yield* this.runEpochs(tf, trainer, { fitPart, valid, run, t0, phase: 'epoch' });
    this.setFitResult(trainer.weights);
  }

  /** fitSteps ends by handing over the fitted weights here. */
  protected setFitResult(w: ParamStore): void {
    this.fitResult = w;
  }

  /** Splits off the validation interactions. Top-N models: per user. */
  protected validationSplit(train: Dataset, fraction: number): { fitPart: Dataset; valid: Dataset } {
    const s = perUserSplit(train, { testFraction: fraction, minTrain: 1, seed: this.params.seed ?? 42 });
    return { fitPart: s.train, valid: s.test };
  }

  /** @internal The validation metric of the current weights. Top-N models: ndcg@10 over the held-out interactions. */
  protected validate(tf: Tf, w: ParamStore, fitPart: Dataset, valid: Dataset): ValidationResult {
    const r = evaluate(
      {
        trainData: fitPart,
        scoreUsersDense: (users) => this.scoreRows(tf, w, fitPart, users),
        predictDense: (users, items) => this.predictRows(tf, w, fitPart, users, items),
      },
      valid,
      { metrics: ['ndcg'], k: 10, threads: this.params.threads ?? 0 },
    );
    return { metric: 'ndcg@10', value: r['ndcg@10']!, higherIsBetter: true };
  }

  /** @internal Runs a trainer's epochs with progress, validation and early stopping (keeps the best epoch's weights). */
  protected *runEpochs(
    tf: Tf,
    trainer: Trainer,
    o: { fitPart: Dataset; valid?: Dataset; run: FitOptionsNative; t0: number; phase: string },
  ): Generator<void, void, void> {
    const patience = this.opt('patience');
    let best = NaN;
    let bestWeights: Map<string, Float32Array> | undefined;
    let bad = 0;
    for (let e = 0; e < trainer.epochs; e++) {
      const plan = trainer.epoch(e);
      let sum = 0;
      for (let s = 0; s < plan.steps; s++) {
        const r = plan.step(s);
        sum += typeof r === 'number' ? r : yield* r;
        yield;
      }
      const loss = plan.steps > 0 ? sum / plan.steps : NaN;
      yield* checkFinite(this.name, plan.steps > 0 ? loss : 0, trainer.weights, e + 1);
      const p: FitProgress = { phase: o.phase, step: e + 1, total: trainer.epochs, loss, seconds: (performance.now() - o.t0) / 1000 };
      let stop = false;
      if (o.valid) {
        const r = this.validate(tf, trainer.weights, o.fitPart, o.valid);
        p.validation = { metric: r.metric, value: r.value };
        if (Number.isNaN(best) || (r.higherIsBetter ? r.value > best : r.value < best)) {
          best = r.value;
          bestWeights = trainer.weights.snapshot();
          bad = 0;
        } else if (++bad >= patience) {
          stop = true;
        }
      }
      o.run.onProgress?.(p);
      if (stop) break;
    }
    if (bestWeights) trainer.weights.restore(bestWeights);
    this.checkOutputs(tf, trainer.weights, o.fitPart);
  }

  /**
   * Finite weights can still give absurd outputs (Adam at lr 1e30 moves every weight by 1e30 in one step, and the
   * loss of the last step is computed before it): the outputs of a few users must be finite and below MAX_OUTPUT
   * in magnitude (beyond it, squared errors overflow float32 and no logit or log-probability means anything).
   * @internal
   */
  protected checkOutputs(tf: Tf, w: ParamStore, data: Dataset): void {
    const n = Math.min(4, data.nUsers);
    if (n === 0 || data.nItems === 0) return;
    const users = Int32Array.from({ length: n }, (_, j) => Math.floor((j * data.nUsers) / n));
    const s = this.rawScores(tf, w, data, users);
    for (let j = 0; j < s.length; j++) {
      if (!(Math.abs(s[j]!) <= MAX_OUTPUT)) {
        throw new RecsysError(
          'E_STATE',
          `${this.name}: the fitted model scores user ${users[Math.floor(j / data.nItems)]} and item ${j % data.nItems} as ${s[j]}: the fit diverged; try a smaller lr`,
        );
      }
    }
  }

  /**
   * Weights read from a file can be finite and still give absurd scores (a network has no cheap bound): the check
   * a fit ends with runs on load too, and refuses the file (fuzz modelfile seed 50076230 case 24175: an MLP file
   * with output_weight = 3e38 answered Infinity).
   */
  protected override checkLoaded(): void {
    try {
      this.checkOutputs(tfSync(), this.fittedWeights, this.scoringData);
    } catch (e) {
      if (e instanceof RecsysError && e.code === 'E_STATE')
        throw new RecsysError('E_FORMAT', `${this.name}: the file's weights give absurd scores: ${e.message}`);
      throw e;
    }
  }

  /** @internal Scores before any clipping to a range (checkOutputs reads them). */
  protected rawScores(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array): Float32Array {
    return this.scoreRows(tf, w, data, users);
  }

  // ---- scoring (the handle calls these) --------------------------------------------------------------------

  /** Fitted weights; throws E_NOT_FITTED before fit. */
  protected get fittedWeights(): ParamStore {
    if (!this.weights) throw new RecsysError('E_NOT_FITTED', `${this.name} is not fitted: call fit() or fitAsync() first`);
    return this.weights;
  }

  /** @internal predict() for pairs: by default the pair's entry of the user's score row. */
  protected predictRows(tf: Tf, w: ParamStore, data: Dataset, users: Int32Array, items: Int32Array): Float32Array {
    const out = new Float32Array(users.length);
    const nItems = data.nItems;
    const order = Array.from(users.keys()).sort((a, b) => users[a]! - users[b]! || a - b);
    const block = Math.max(1, Math.floor(2 ** 22 / Math.max(1, nItems)));
    for (let s = 0; s < order.length;) {
      const distinct: number[] = [];
      let e = s;
      while (e < order.length && (distinct.length < block || users[order[e]!] === distinct[distinct.length - 1])) {
        const u = users[order[e]!]!;
        if (distinct[distinct.length - 1] !== u) distinct.push(u);
        e++;
      }
      const rows = Int32Array.from(distinct, (u) => (u >= 0 && u < data.nUsers ? u : -1));
      const scores = this.scoreRows(tf, w, data, rows);
      let r = 0;
      for (let j = s; j < e; j++) {
        const p = order[j]!;
        while (distinct[r] !== users[p]) r++;
        const i = items[p]!;
        out[p] = i >= 0 && i < nItems ? scores[r * nItems + i]! : this.unknownItemScore();
      }
      s = e;
    }
    return out;
  }

  /** predict() for an item the model does not know. */
  protected unknownItemScore(): number {
    return NaN;
  }

  /** @internal Scores of every item for a user who was not in training. Default: E_UNSUPPORTED. */
  protected scoreNewUser(_tf: Tf, _w: ParamStore, _items: Int32Array, _values: Float32Array | undefined): Float32Array {
    throw new RecsysError('E_UNSUPPORTED', `${this.name} cannot score a user who was not in training (no fold-in)`);
  }

  /** Vectors that describe items (n x dim), for similarItems; undefined: no similarity. */
  protected itemVectors(_w: ParamStore): { data: Float32Array; dim: number } | undefined {
    return undefined;
  }
  /** @internal Vectors that describe users, for similarUsers. */
  protected userVectors(_tf: Tf, _w: ParamStore, _data: Dataset): { data: Float32Array; dim: number } | undefined {
    return undefined;
  }

  /** Extra tensors the state carries besides the weights (e.g. the training interactions). */
  protected extraState(): StateTensors {
    return {};
  }

  /** The interactions scoring reads. */
  protected get scoringData(): Dataset {
    return this.inputData ?? this.trainData;
  }

  /** @internal Entry points for the handle. */
  _scoreUsers(users: Int32Array): Float32Array {
    return guardBackend(this.name, () => this.scoreRows(tfSync(), this.fittedWeights, this.scoringData, users));
  }
  /** @internal */
  _predict(users: Int32Array, items: Int32Array): Float32Array {
    return guardBackend(this.name, () => this.predictRows(tfSync(), this.fittedWeights, this.scoringData, users, items));
  }
  /** @internal */
  _scoreNew(items: Int32Array, values: Float32Array | undefined): Float32Array {
    return guardBackend(this.name, () => this.scoreNewUser(tfSync(), this.fittedWeights, items, values));
  }
  /** @internal */
  _vectors(kind: 'items' | 'users'): { data: Float32Array; dim: number } {
    const v = guardBackend(this.name, () =>
      kind === 'items' ? this.itemVectors(this.fittedWeights) : this.userVectors(tfSync(), this.fittedWeights, this.scoringData),
    );
    if (!v) throw new RecsysError('E_UNSUPPORTED', `${this.name} has no ${kind === 'items' ? 'item' : 'user'} similarity`);
    return v;
  }

  override scoreUsersDense(users: Int32Array): Float32Array {
    void this.nativeModel; // E_NOT_FITTED before fit
    return this._scoreUsers(users);
  }

  override predictDense(users: Int32Array, items: Int32Array): Float32Array {
    void this.nativeModel;
    return this._predict(users, items);
  }

  // ---- state ------------------------------------------------------------------------------------------------

  /** The fitted weights (and whatever else scoring needs) as named tensors, for model files. */
  state(): StateTensors {
    return { ...this.fittedWeights.state(), ...this.extraState() };
  }

  /** What a model file stores (saveModel): the kind is the class name, the tensors those of state(). */
  override exportState(): ModelState {
    const h = this.nativeModel;
    return { kind: this.name, users: h.nUsers, items: h.nItems, tensors: this.state() };
  }

  /** loadModel: the weights from a model file's tensors (its id maps and train matrix are attached after). */
  protected override importState(state: ModelState): void {
    if (state.kind !== this.name) throw argError(`a ${state.kind} state cannot be loaded into ${this.name}`);
    const dense = (n: number) => new IdMap(Array.from({ length: n }, (_, j) => j));
    this.restoreState(state.tensors, dense(state.users), dense(state.items), undefined);
  }

  /** Rebuilds a fitted model from state() output, its ids and its parameters; tensors are checked against them. */
  static fromState<T extends DeepRecommender>(this: new (params?: T['params']) => T, state: StateTensors, input: FromStateInput<T['params']>): T {
    if (state === null || typeof state !== 'object') throw argError('fromState expects the object state() returned');
    if (input === null || typeof input !== 'object') throw argError('fromState expects { users, items, params?, seen? }');
    const users = toIdMap(input.users, 'users');
    const items = toIdMap(input.items, 'items');
    const m = new this({ ...input.params });
    m.restoreState(state, users, items, input.seen);
    return m;
  }

  /** @internal */
  restoreState(state: StateTensors, users: IdMap, items: IdMap, seen: Dataset | undefined): void {
    const shapes = this.stateShapes(users.size, items.size);
    const w = new ParamStore();
    for (const [name, shape] of Object.entries(shapes)) {
      const t = state[name];
      if (!t || !(t.data instanceof Float32Array)) throw argError(`${this.name} state has no Float32 tensor '${name}'`);
      if (t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) {
        throw argError(`${this.name} state tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] for these parameters and ids`);
      }
      if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw argError(`${this.name} state tensor '${name}' has ${t.data.length} values for its shape`);
      // A fit never ends with non-finite weights (checkFinite), so such a state was altered: refuse it, as the native restorers do.
      for (let j = 0; j < t.data.length; j++)
        if (!Number.isFinite(t.data[j]!)) throw argError(`${this.name} state tensor '${name}' holds a non-finite value at ${j}`);
      w.add(name, { shape }, t.data.slice());
    }
    const data = this.dataFromState(state, users, items) ?? seen ?? Dataset.fromCoo(users, items, new Int32Array(0), new Int32Array(0));
    if (data.users !== users && data.nUsers !== users.size) throw argError('seen must use the same user ids');
    if (data.items !== items && data.nItems !== items.size) throw argError('seen must use the same item ids');
    this.weights = w;
    this.trainSet = data;
    this.inputData = data;
    this.afterFit(data);
    this.handle = new DeepHandle(this, users.size, items.size);
  }

  /** Models whose scoring reads the training interactions rebuild them from their state here. */
  protected dataFromState(_state: StateTensors, _users: IdMap, _items: IdMap): Dataset | undefined {
    return undefined;
  }

  /** The training interactions as state tensors (for models that need them to score). */
  protected interactionsState(data: Dataset, withValues: boolean): StateTensors {
    const c = data.csr;
    const out: StateTensors = {
      interactions_indptr: { shape: [c.indptr.length], data: c.indptr.slice() },
      interactions_indices: { shape: [c.indices.length], data: c.indices.slice() },
    };
    if (withValues && c.data) out['interactions_values'] = { shape: [c.data.length], data: c.data.slice() };
    return out;
  }

  protected interactionsFromState(state: StateTensors, users: IdMap, items: IdMap, withValues: boolean): Dataset {
    const ptr = state['interactions_indptr']?.data;
    const idx = state['interactions_indices']?.data;
    const val = state['interactions_values']?.data;
    if (!(ptr instanceof Int32Array) || !(idx instanceof Int32Array))
      throw argError(`${this.name} state needs Int32 tensors interactions.indptr and interactions.indices`);
    if (withValues && !(val instanceof Float32Array)) throw argError(`${this.name} state needs a Float32 tensor interactions.values`);
    if (ptr.length !== users.size + 1 || ptr[0] !== 0 || ptr[users.size] !== idx.length)
      throw argError(`${this.name} state: interactions.indptr does not match the users`);
    const rows = new Int32Array(idx.length);
    for (let u = 0; u < users.size; u++) {
      if (ptr[u + 1]! < ptr[u]!) throw argError(`${this.name} state: interactions.indptr is not monotone`);
      rows.fill(u, ptr[u], ptr[u + 1]);
    }
    for (let p = 0; p < idx.length; p++)
      if (idx[p]! < 0 || idx[p]! >= items.size) throw argError(`${this.name} state: interactions.indices holds an unknown item`);
    return Dataset.fromCoo(users, items, rows, idx, withValues ? (val as Float32Array) : undefined);
  }
}

export function validateDeep(p: DeepParams): void {
  const posInt = (k: keyof DeepParams) => {
    const v = p[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) throw argError(`${k} must be an integer >= 1, got ${String(v)}`);
  };
  posInt('epochs');
  posInt('batchSize');
  posInt('patience');
  if (p.lr !== undefined && (typeof p.lr !== 'number' || !(p.lr > 0) || !Number.isFinite(p.lr)))
    throw argError(`lr must be a positive number, got ${String(p.lr)}`);
  if (p.optimizer !== undefined && p.optimizer !== 'adam' && p.optimizer !== 'sgd')
    throw argError(`optimizer must be 'adam' or 'sgd', got ${String(p.optimizer)}`);
  if (p.validation !== undefined && (typeof p.validation !== 'number' || !(p.validation >= 0 && p.validation < 1))) {
    throw argError(`validation must be a number in [0, 1), got ${String(p.validation)}`);
  }
  const mb = p.maxMemoryBytes;
  if (mb !== undefined && (typeof mb !== 'number' || !Number.isFinite(mb) || mb < 0 || mb > 1e18)) {
    throw argError(`maxMemoryBytes must be a finite number >= 0 and <= 1e18, got ${show(mb)}`);
  }
}

// ---- the handle: a NativeModel whose scores come from TensorFlow.js ---------------------------------------

/** Cosine of row r of M (n x dim) with every row. */
function cosineRows(M: Float32Array, dim: number, r: number): Float32Array {
  const n = M.length / dim;
  const out = new Float32Array(n);
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += M[j * dim + d]! * M[j * dim + d]!;
    norms[j] = Math.sqrt(s);
  }
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += M[j * dim + d]! * M[r * dim + d]!;
    out[j] = norms[j]! > 0 && norms[r]! > 0 ? s / (norms[j]! * norms[r]!) : 0;
  }
  return out;
}

class DeepHandle extends ScoredHandle {
  constructor(
    private readonly model: DeepRecommender,
    nUsers: number,
    nItems: number,
  ) {
    super(nUsers, nItems);
  }

  get kind(): string {
    return this.model.name;
  }

  recommendNew(items: Int32Array, values: Float32Array | undefined, k: number, filterSeen: boolean, exclude?: Int32Array, include?: Int32Array): TopKResult {
    const scores = this.model._scoreNew(items, values);
    const seen = filterSeen ? Int32Array.from(new Set(items)).sort() : undefined;
    return topkOfRow(scores, this.nItems, k, seen, exclude, include);
  }

  predict(users: Int32Array, items: Int32Array): Float32Array {
    if (users.length !== items.length) throw argError('users and items must have the same length');
    return this.model._predict(users, items);
  }

  scoreUsers(users: Int32Array): Float32Array {
    return this.model._scoreUsers(users);
  }

  similarItems(item: number, k: number, exclude?: Int32Array, include?: Int32Array): TopKResult {
    const v = this.model._vectors('items');
    return topkOfRow(cosineRows(v.data, v.dim, item), this.nItems, k, undefined, exclude, include);
  }

  similarUsers(user: number, k: number, exclude?: Int32Array, include?: Int32Array): TopKResult {
    const v = this.model._vectors('users');
    return topkOfRow(cosineRows(v.data, v.dim, user), this.nUsers, k, undefined, exclude, include);
  }

  state(): Record<string, { shape: number[]; data: Float32Array | Int32Array }> {
    return this.model.state();
  }
}
