// The shapes of the benchmark result files (bench/results/*.json) that `recsys report` renders. The benchmark
// scripts in bench/ write them; every file carries a `kind` and the run's circumstances.

/** Where and how a benchmark ran. */
export interface RunInfo {
  /** ISO date and time of the run. */
  date: string;
  machine: { cpu: string; cores: number; memoryGB: number; os: string };
  node: string;
  /** recsys version, BLAS backend and SIMD level of the native addon. */
  recsys: string;
  blas: string;
  /** Threads the recsys side used (0 = all hardware threads). */
  threads: number;
  /** 1/5/15-minute load averages before and after the run (other work on the cores stretches wall times). */
  loadavg?: number[];
  loadavgAfter?: number[];
  notes?: string[];
}

/** npm run bench: each hot kernel in plain TypeScript and natively, median milliseconds. */
export interface KernelsResult {
  kind: 'kernels';
  info: RunInfo;
  rows: {
    kernel: string;
    /** The data the kernel ran on, in words. */
    data: string;
    tsMs: number;
    /** Native on one thread. */
    native1Ms: number;
    /** Native on all hardware threads (absent where the kernel is single-threaded). */
    nativeAllMs?: number;
    allThreads: number;
  }[];
}

/** Evaluation protocols of npm run bench:accuracy. */
export type Protocol = 'kfold5' | 'peruser80' | 'loo';

export interface AccuracyRow {
  dataset: string;
  model: string;
  params?: Record<string, unknown>;
  protocol: Protocol;
  /** Means over folds for kfold5; metric name (with @K) -> value. */
  metrics: Record<string, number>;
  /** Ranking metric -> [K, value] pairs, for the metric-vs-K plots. */
  curves?: Record<string, [number, number][]>;
  /** Seconds per fit (mean over folds for kfold5). */
  fitSeconds: number;
  /** Seconds to predict every test pair (rating) or to rank every test user (ranking), per fold. */
  predictSeconds: number;
  /** Peak resident set size of the process that fitted and evaluated the model (MiB). */
  peakRssMB: number;
  /** Training loss per epoch, where the model reports one. */
  loss?: number[];
  error?: string;
  /** 1-minute load average when the model's child process started. */
  load?: number;
}

export interface AccuracyResult {
  kind: 'accuracy';
  info: RunInfo;
  rows: AccuracyRow[];
}

/** One recsys model and its peer on the same split files. */
export interface PeerRow {
  dataset: string;
  task: 'rating' | 'ranking';
  recsys: { model: string; fitSeconds: number; predictSeconds: number; metrics: Record<string, number> };
  peer: { library: string; model: string; fitSeconds: number; predictSeconds: number; metrics: Record<string, number>; error?: string };
  note?: string;
  /** 1-minute load average when the pair started (rows of filtered runs are merged into one file). */
  load?: number;
}

export interface PeersResult {
  kind: 'peers';
  info: RunInfo;
  /** Peer package -> version, and the BLAS kernel numpy ran. */
  peerVersions: Record<string, string>;
  rows: PeerRow[];
}

export interface ScalingRow {
  model: string;
  interactions: number;
  users: number;
  items: number;
  fitSeconds: number;
  peakRssMB: number;
  /** Epochs / iterations the fit ran (time per epoch = fitSeconds / epochs). */
  epochs?: number;
  error?: string;
  /** 1-minute load average when the fit started. */
  load?: number;
}

export interface ScalingResult {
  kind: 'scaling';
  info: RunInfo;
  rows: ScalingRow[];
  /** Model -> exponent b of the least-squares fit time ~ a * interactions^b (log-log). */
  exponents: Record<string, number>;
}

/** npm run bench:deep: the deep models (TensorFlow.js) under the protocols their targets name. */
export interface DeepResult {
  kind: 'deep';
  info: RunInfo;
  /** The TensorFlow.js backend of the accuracy rows (the epoch-seconds rows name their own). */
  backend: string;
  rows: {
    /** 'ms-recommenders' (75/25 per user, k = 10), 'kfold5' (rating), 'loo-99' (last item among 99 sampled
     * negatives), 'loo-99-tuned' (the same, baselines tuned on a validation item) or 'epoch-seconds'. */
    protocol: string;
    model: string;
    /** The backend of an epoch-seconds row. */
    backend?: string;
    params?: Record<string, unknown>;
    metrics: Record<string, number>;
    /** Wall seconds of the fit (per fold for kfold5; per epoch for epoch-seconds). */
    fitSeconds?: number;
    /** The published or target figure compared with, in words. */
    reference?: string;
  }[];
}

export type BenchResult = KernelsResult | AccuracyResult | PeersResult | ScalingResult | DeepResult;

/** Least-squares slope of log(y) against log(x): the b of y ~ a x^b. NaN with fewer than two points. */
export function powerLawExponent(points: readonly [number, number][]): number {
  const pts = points.filter(([x, y]) => x > 0 && y > 0).map(([x, y]) => [Math.log(x), Math.log(y)] as const);
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  let sxy = 0,
    sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : NaN;
}
