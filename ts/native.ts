// Loads the compiled addon (prebuilds/ or build/Release via node-gyp-build) and declares its shape.
// Everything native goes through this file; the rest of ts/ never calls require() on the addon itself.
import { RecsysError } from './errors.js';
import { PACKAGE_ROOT, packageRequire } from './package_root.cjs';

/** A CSR matrix as shared between TS and C++ (rows = users unless said otherwise). */
export interface CsrMatrix {
  rows: number;
  cols: number;
  /** rows + 1 offsets into indices. */
  indptr: Int32Array;
  /** column indices, sorted and unique within each row. */
  indices: Int32Array;
  /** values (ratings or weights); absent = implicit ones. */
  data?: Float32Array;
  /** timestamps (seconds), when the data had them. */
  times?: Float64Array;
}

export interface TopKResult {
  items: Int32Array;
  scores: Float32Array;
}

/** How a native fit runs: on a worker thread (async) or not; without onProgress / cancel, no reports / no cancelling. */
export interface FitOptionsNative {
  async: boolean;
  /** The train matrices come from a sealed Dataset (no outside reference): the native full check is skipped. */
  sealed?: boolean;
  onProgress?: (p: FitProgress) => void;
  cancel?: Int32Array;
}

/** A progress report from a fit. */
export interface FitProgress {
  phase: string;
  step: number;
  total: number;
  loss?: number;
  seconds: number;
  /** The validation metric after this epoch, for fits with a validation split (deep models). */
  validation?: { metric: string; value: number };
}

/** A fitted native model (any family). */
export interface NativeModel {
  readonly kind: string;
  readonly nUsers: number;
  readonly nItems: number;
  recommend(user: number, k: number, seen?: Int32Array, exclude?: Int32Array, include?: Int32Array): TopKResult;
  recommendBatch(
    users: Int32Array,
    k: number,
    seen: Pick<CsrMatrix, 'rows' | 'cols' | 'indptr' | 'indices'> | undefined,
    exclude: Int32Array | undefined,
    include: Int32Array | undefined,
    threads: number,
  ): TopKResult & { counts: Int32Array; k: number };
  recommendNew(items: Int32Array, values: Float32Array | undefined, k: number, filterSeen: boolean, exclude?: Int32Array, include?: Int32Array): TopKResult;
  predict(users: Int32Array, items: Int32Array, threads: number): Float32Array;
  scoreUsers(users: Int32Array, threads: number): Float32Array;
  similarItems(item: number, k: number, exclude?: Int32Array, include?: Int32Array): TopKResult;
  similarUsers(user: number, k: number, exclude?: Int32Array, include?: Int32Array): TopKResult;
  state(): Record<string, NativeTensor>;
  /** Approximate top-K (the addon's models; handles implemented in TS have none). See ts/models/ann.ts. */
  annSupported?(): boolean;
  buildAnn?(options: AnnBuildOptions): void;
  buildAnnAsync?(options: AnnBuildOptions): Promise<void>;
  annInfo?(): { items: number; M: number; efConstruction: number; efSearch: number; landmarks: boolean; bytes: number } | null;
  setAnnSearch?(efSearch: number, landmarks?: boolean): void;
  dropAnn?(): void;
}

export interface AnnBuildOptions {
  M: number;
  efConstruction: number;
  efSearch: number;
  seed: number;
  threads: number;
}

export interface NativeInfo {
  blas: string;
  openblas: boolean;
  hardwareThreads: number;
  /** The SIMD level the hot kernels run with on this CPU (with dispatch: the best one it supports). */
  simd: string;
  /** The -march the addon was compiled with (empty: the compiler's default). */
  archFlag: string;
  /** Whether the hot kernels pick their instruction set at run time (the portable x64 build, prebuilt binaries). */
  dispatch: boolean;
  compiler: string;
  napiVersion: number;
}

/** What the native interaction-file parser returns: a CSR plus the id lists (Float64Array for numeric ids). */
export interface ParsedInteractions extends CsrMatrix {
  users: Float64Array | string[];
  items: Float64Array | string[];
  /** Pairs merged by the duplicates policy. */
  duplicates: number;
  /** Data lines read (before merging). */
  interactions: number;
  /** Physical lines in the file. */
  lines: number;
}

/**
 * A family's native fit: the training matrix (users x items), the model's resolved options (ts/models/params.ts;
 * Recommender.nativeParams) and the run options. The native side holds no defaults: an option left out is E_ARG
 * "option 'x' is required". Synchronous unless run.async (then a promise).
 */
export type NativeFit = (train: CsrMatrix, params: object, run: FitOptionsNative) => NativeModel | Promise<NativeModel>;
/** A native fit that also takes the transposed matrix (items x users). */
export type NativeFitTransposed = (train: CsrMatrix, trainTransposed: CsrMatrix, params: object, run: FitOptionsNative) => NativeModel | Promise<NativeModel>;

/** The addon's exports: every function ts/ calls, typed (no lookups by name). */
export interface NativeAddon {
  info(): NativeInfo;
  /** Native errors reach JS as `new cls(code, message)` (load() passes RecsysError). */
  setErrorClass(cls: typeof RecsysError): void;
  fitPopularity: NativeFit;
  fitRandom: NativeFit;
  fitBaselineOnly: NativeFitTransposed;
  fitBiasedMF: NativeFit;
  fitSVDpp: NativeFit;
  fitExplicitALS: NativeFitTransposed;
  fitNMF: NativeFitTransposed;
  /** KNNBasic / KNNWithMeans / KNNBaseline: params carry mode 'basic' | 'means' | 'baseline'. */
  fitKNN: NativeFitTransposed;
  fitSlopeOne: NativeFitTransposed;
  fitImplicitALS: NativeFitTransposed;
  fitBPR: NativeFit;
  fitItemKNN: NativeFitTransposed;
  fitEASE: NativeFit;
  fitSANSA: NativeFitTransposed;
  fitPureSVD: NativeFit;
  fitLightGCN: NativeFit;
  /** One LightGCN mini-batch's loss and gradient with respect to the layer-0 embeddings (a test seam). */
  lightgcnBatchLoss(
    train: CsrMatrix,
    E0: Float32Array,
    users: Int32Array,
    positives: Int32Array,
    negatives: Int32Array,
    options: { factors: number; layers: number; reg: number; threads: number },
  ): { loss: number; grad: Float32Array };
  /**
   * ImplicitALS.partialFit: the fitted model re-solved for changed and new users / items of the new data. With `ann`,
   * a model that has an approximate index passes it on, updated for the changed and new items (the old one is only read).
   */
  alsPartialFit(
    model: NativeModel,
    train: CsrMatrix,
    trainTransposed: CsrMatrix,
    userOld: Int32Array,
    itemOld: Int32Array,
    refreshUsers: Int32Array,
    refreshItems: Int32Array,
    options: { threads: number; ann?: boolean },
    run: FitOptionsNative,
  ): NativeModel | Promise<NativeModel>;
  /** Randomized truncated SVD of a CSR (native/models/puresvd.cc). */
  truncatedSVD(
    m: CsrMatrix,
    options: { k: number; oversample: number; powerIterations: number; seed: number; threads: number },
  ): { U: Float32Array; S: Float32Array; Vt: Float32Array; rows: number; cols: number; k: number };
  buildCsr(
    rows: number,
    cols: number,
    r: Int32Array,
    c: Int32Array,
    values: Float32Array | undefined,
    times: Float64Array | undefined,
    duplicates: string,
  ): CsrMatrix & { duplicates: number };
  transpose(m: CsrMatrix): CsrMatrix;
  /** What a fit does to its matrix first (native copy of indptr/indices + full check); returns nnz. Benches, tests and TS fits. */
  _checkCsr(m: CsrMatrix, run?: { async?: boolean }): number;
  parseInteractions(
    path: string,
    options: {
      delimiter: string;
      quote: boolean;
      header: boolean;
      fields: number;
      columns: { user: number | string; item: number | string; rating?: number | string; timestamp?: number | string };
      duplicates: string;
      knownUsers?: readonly (number | string)[];
      knownItems?: readonly (number | string)[];
    },
  ): Promise<ParsedInteractions>;
  NativeModel: unknown;
  createFactorModel(o: {
    users: number;
    items: number;
    factors: number;
    userFactors?: Float32Array;
    itemFactors?: Float32Array;
    userBias?: Float32Array;
    itemBias?: Float32Array;
    global: number;
    kind: string;
  }): NativeModel;
  /** createFactorModel plus least-squares fold-in (native/models/foldin.cc). */
  createFoldInFactorModel(
    o: Parameters<NativeAddon['createFactorModel']>[0] & { implicit: boolean; alpha: number; reg: number; scaleReg: boolean },
  ): NativeModel;
  _topk(scores: Float32Array, k: number, seen?: Int32Array, exclude?: Int32Array, include?: Int32Array): TopKResult;
  /** Per-user ranking metrics of a block of score rows (native/eval/metrics.cc; layout documented there). */
  rankingMetrics(
    scores: Float32Array,
    nItems: number,
    users: Int32Array,
    train: CsrMatrix | undefined,
    test: CsrMatrix,
    ks: Int32Array,
    options: { gain: string; auc: boolean; negatives: number; seed: number; threads: number; minRank?: Int32Array },
  ): { values: Float64Array; columns: number };
  /** The negatives rankingMetrics samples for one user (for tests and reference implementations). */
  _sampleNegatives(
    nItems: number,
    seed: number,
    user: number,
    trainRow: Int32Array,
    testRow: Int32Array,
    negatives: number,
  ): { positions: Int32Array; offsets: Int32Array; negatives: Int32Array };
  _blas: {
    gemm(
      useRef: boolean,
      ta: boolean,
      tb: boolean,
      m: number,
      n: number,
      k: number,
      A: Float32Array,
      B: Float32Array,
      C: Float32Array,
      alpha: number,
      beta: number,
    ): void;
    gemv(useRef: boolean, ta: boolean, m: number, n: number, A: Float32Array, x: Float32Array, y: Float32Array): void;
    syrk(useRef: boolean, n: number, m: number, A: Float32Array, C: Float32Array): void;
    cholSolve(useRef: boolean, n: number, A: Float32Array, B: Float32Array): number;
    inverse(useRef: boolean, n: number, A: Float32Array): number;
    qr(useRef: boolean, m: number, n: number, A: Float32Array): number;
    svd(useRef: boolean, m: number, n: number, A: Float32Array, S: Float32Array, U: Float32Array, Vt: Float32Array): number;
  };
  /** A model rebuilt from what its state() returned (native/core/model.h: the restorer registry). */
  restoreModel(kind: string, dims: { users: number; items: number }, tensors: Record<string, NativeTensor>, params: object): NativeModel;
  /** Kinds some family of this build registered a restorer for. */
  restorableKinds(): string[];
  /** Reads, hashes and places a model file's tensors (native/io/model_file.cc; ts/io/format.ts calls it). */
  readModelFile(
    path: string,
    spec: {
      header: Uint8Array;
      checksumAt: number;
      dataLength: number;
      tensors: { name: string; dtype: 'F32' | 'I32'; shape: number[]; begin: number; end: number }[];
      expected?: string;
      restore?: { kind: string; users: number; items: number; names: string[]; params: object };
    },
  ): { model?: NativeModel; tensors: Record<string, NativeTensor>; checksum: string };
  /** readModelFile on a worker thread. */
  readModelFileAsync(path: string, spec: Parameters<NativeAddon['readModelFile']>[1]): Promise<ReturnType<NativeAddon['readModelFile']>>;
  /** XXH64 (seed 0) of the concatenated bytes, as 16 hex digits. */
  xxh64(chunks: ArrayBufferView[]): string;
  /** One epoch of pointwise examples: every interaction (label 1) followed by `negatives` sampled unseen items (label 0). */
  sampleEpoch(
    train: CsrMatrix,
    options: { negatives: number; seed: number; epoch: number; shuffle: boolean; threads: number },
  ): { users: Int32Array; items: Int32Array; labels: Float32Array };
  /** One uniform unseen item per entry of users (-1 where the user has seen every item). */
  sampleNegatives(train: CsrMatrix, users: Int32Array, options: { seed: number; epoch: number; threads: number }): Int32Array;
  /** Dense rows (rows.length x cols) of a CSR; rows outside it are zeros. */
  denseRows(m: CsrMatrix, rows: Int32Array, options: DenseRowsOptions & { threads: number }): Float32Array;
  /** The stored entries of some CSR rows: entry p is (rows[rowOf[p]], indices[p]) with value values[p]. */
  csrRows(m: CsrMatrix, rows: Int32Array, options: DenseRowsOptions): { rowOf: Int32Array; indices: Int32Array; values: Float32Array };
  /** Adam or SGD step on a dense parameter, in place (m and v: Adam's moments). */
  optimizerStep(w: Float32Array, grad: Float32Array, m: Float32Array | undefined, v: Float32Array | undefined, options: OptimizerOptions): void;
  /** Adam or SGD step on some rows of a table (repeated rows summed), in place. */
  optimizerRowsStep(
    table: Float32Array,
    m: Float32Array | undefined,
    v: Float32Array | undefined,
    dim: number,
    rows: Int32Array,
    grads: Float32Array,
    options: OptimizerOptions,
  ): void;
  /** A sparse input layer: row r of the result = sum of values[p] * table[indices[p]] over entries with rowOf[p] == r. */
  embeddingBag(table: Float32Array, dim: number, entries: { rowOf: Int32Array; indices: Int32Array; values: Float32Array }, rows: number): Float32Array;
  /** Its gradient (from dOut, rows x dim) applied to the table's rows by Adam or SGD, in place. */
  embeddingBagStep(
    table: Float32Array,
    m: Float32Array | undefined,
    v: Float32Array | undefined,
    dim: number,
    entries: { rowOf: Int32Array; indices: Int32Array; values: Float32Array },
    dOut: Float32Array,
    options: OptimizerOptions,
  ): void;
  /** Rows of a table (rows.length x dim); out-of-range rows are zeros. */
  gatherRows(table: Float32Array, dim: number, rows: Int32Array): Float32Array;
  /** Top-K of score rows computed outside the core, filtered like recommendBatch (row r by seen row seenRows[r]). */
  topkRows(
    scores: Float32Array,
    nItems: number,
    k: number,
    seenRows: Int32Array | undefined,
    seen: Pick<CsrMatrix, 'rows' | 'cols' | 'indptr' | 'indices'> | undefined,
    exclude: Int32Array | undefined,
    include: Int32Array | undefined,
    threads: number,
  ): TopKResult & { counts: Int32Array; k: number };
}

/** A named tensor of a model's state, as state() returns it. */
export interface NativeTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Options of optimizerStep / optimizerRowsStep / embeddingBagStep (all required: the native side has no defaults). */
export interface OptimizerOptions {
  method: 'adam' | 'sgd';
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Coupled weight decay: the gradient gains l2 * w. */
  l2: number;
  /** Adam's 1-based step (bias correction). */
  step: number;
}

/** Options of denseRows / csrRows: values as ones, rows L2-normalized, inverted dropout drawn from (seed, epoch). */
export interface DenseRowsOptions {
  binary: boolean;
  normalize: boolean;
  /** In [0, 1); 0 = none. */
  dropout: number;
  seed: number;
  epoch: number;
}

function load(): NativeAddon {
  try {
    const nodeGypBuild = packageRequire('node-gyp-build') as (dir: string) => NativeAddon;
    const a = nodeGypBuild(PACKAGE_ROOT);
    // Native errors arrive as RecsysError with their code; no call site re-wraps them.
    a.setErrorClass(RecsysError);
    return a;
  } catch (err) {
    throw new RecsysError(
      'E_NATIVE',
      `recsys: the native addon could not be loaded from ${PACKAGE_ROOT} (${(err as Error).message}). ` +
        'Run `npm install` (or `npm run build:native`) to build it.',
      { cause: err },
    );
  }
}

/** The loaded addon (loaded once, on first import). */
export const addon: NativeAddon = load();
