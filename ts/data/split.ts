// Train/test splits and folds. Every split is seeded with the TS generator in ../rng.ts (no Math.random, no
// threads), so a seed gives the same split on every machine. Splits work on the dataset's interactions in CSR
// order (users ascending, items ascending within a user) and return Datasets that share the source's id maps,
// so dense indices agree between train, test and the model; ratings and timestamps are kept.
import { RecsysError, argError, show } from '../errors.js';
import { Rng } from '../rng.js';
import { Dataset } from './dataset.js';

export interface TrainTest {
  train: Dataset;
  test: Dataset;
}

export interface RandomSplitOptions {
  /** Share of interactions in the test set, in (0, 1). */
  testFraction: number;
  /** Default 42. */
  seed?: number;
}

export interface PerUserSplitOptions {
  /** Share of each user's interactions held out, in (0, 1) (MS Recommenders' stratified-split rounding). */
  testFraction?: number;
  /** Or a fixed number of interactions held out per user (leave-k-out), >= 1. */
  testCount?: number;
  /** A user whose split would leave fewer training interactions than this keeps everything in train. Default 1. */
  minTrain?: number;
  /** Default 42. */
  seed?: number;
}

export interface LeaveLastKOptions {
  /** Interactions held out per user, >= 1. Default 1. */
  k?: number;
  /** A user with fewer than k + minTrain interactions keeps everything in train. Default 1. */
  minTrain?: number;
}

export type TimeSplitOptions = { cutoff: number } | { testFraction: number };

export interface KFoldOptions {
  /** Number of folds, >= 2. Default 5. */
  folds?: number;
  /** Default 42. */
  seed?: number;
  /** Shuffle the interactions before cutting them into folds. Default true (as Surprise's KFold). */
  shuffle?: boolean;
}

/**
 * Global random holdout: shuffles all interactions (Fisher-Yates) and puts the first ceil(testFraction * n) in
 * test, as Surprise's train_test_split does with a float test_size (sklearn's rounding too).
 */
export function randomSplit(ds: Dataset, options: RandomSplitOptions): TrainTest {
  const o = object(options, 'randomSplit options');
  const f = fraction(o.testFraction, 'testFraction');
  const rng = new Rng(seedOf(o.seed));
  const n = nonEmpty(ds);
  const perm = identity(n);
  rng.shuffle(perm);
  const nTest = Math.ceil(f * n);
  const isTest = new Uint8Array(n);
  for (let p = 0; p < nTest; p++) isTest[perm[p]!] = 1;
  return partition(ds, isTest);
}

/**
 * Per-user holdout. With testFraction, a user with n interactions keeps in train the r-th of them (in a random
 * order) for every r in 1..n with r / n <= 1 - testFraction, exactly the comparison MS Recommenders'
 * python_stratified_split makes: train = floor((1 - testFraction) * n), test = the rest (so 0.75 train of 10
 * gives 7 train, 3 test). With testCount (leave-k-out), testCount random interactions per user go to test.
 * Either way a user whose split would leave fewer than minTrain training interactions keeps everything in train
 * (minTrain: 0 reproduces MS Recommenders, which can put a one-interaction user entirely in test; implicit's
 * leave_k_out_split only splits users with more than K + 1 interactions, i.e. minTrain: 2).
 */
export function perUserSplit(ds: Dataset, options: PerUserSplitOptions): TrainTest {
  const o = object(options, 'perUserSplit options');
  if ((o.testFraction === undefined) === (o.testCount === undefined)) throw argError('perUserSplit needs exactly one of testFraction and testCount');
  const f = o.testFraction === undefined ? undefined : fraction(o.testFraction, 'testFraction');
  const count = o.testCount === undefined ? undefined : positiveInt(o.testCount, 'testCount');
  const minTrain = nonNegativeInt(o.minTrain ?? 1, 'minTrain');
  const rng = new Rng(seedOf(o.seed));
  const n = nonEmpty(ds);
  const { indptr } = ds.csr;
  const isTest = new Uint8Array(n);
  const order: number[] = [];
  for (let u = 0; u < ds.nUsers; u++) {
    const b = indptr[u]!;
    const len = indptr[u + 1]! - b;
    if (len === 0) continue;
    const nTest = f !== undefined ? len - stratifiedTrainCount(len, 1 - f) : count!;
    if (nTest <= 0 || len - nTest < minTrain) continue;
    // A partial Fisher-Yates over the user's positions draws the nTest test interactions.
    order.length = 0;
    for (let p = 0; p < len; p++) order.push(b + p);
    for (let j = 0; j < nTest; j++) {
      const r = j + rng.below(len - j);
      const t = order[j]!;
      order[j] = order[r]!;
      order[r] = t;
      isTest[order[j]!] = 1;
    }
  }
  return partition(ds, isTest);
}

/**
 * Per user, the k latest interactions by timestamp go to test (among equal timestamps the larger item index
 * counts as later). Users with fewer than k + minTrain interactions keep everything in train. Needs timestamps.
 */
export function leaveLastK(ds: Dataset, options: LeaveLastKOptions = {}): TrainTest {
  const o = object(options, 'leaveLastK options');
  const k = positiveInt(o.k ?? 1, 'k');
  const minTrain = nonNegativeInt(o.minTrain ?? 1, 'minTrain');
  const times = needTimes(ds, 'leaveLastK');
  const n = nonEmpty(ds);
  const { indptr } = ds.csr;
  const isTest = new Uint8Array(n);
  const pos: number[] = [];
  for (let u = 0; u < ds.nUsers; u++) {
    const b = indptr[u]!;
    const len = indptr[u + 1]! - b;
    if (len < k + minTrain) continue;
    pos.length = 0;
    for (let p = 0; p < len; p++) pos.push(b + p);
    // Positions in a row are in item order, and the sort is stable: ties on time keep item order.
    pos.sort((x, y) => times[x]! - times[y]!);
    for (let j = len - k; j < len; j++) isTest[pos[j]!] = 1;
  }
  return partition(ds, isTest);
}

/**
 * Global time cut. { cutoff }: interactions with timestamp >= cutoff go to test. { testFraction }: the latest
 * ceil(testFraction * n) interactions go to test, ordered by (timestamp, user index, item index). Needs timestamps.
 */
export function timeSplit(ds: Dataset, options: TimeSplitOptions): TrainTest {
  const o = object(options, 'timeSplit options') as { cutoff?: number; testFraction?: number };
  if ((o.cutoff === undefined) === (o.testFraction === undefined)) throw argError('timeSplit needs exactly one of cutoff and testFraction');
  const times = needTimes(ds, 'timeSplit');
  const n = nonEmpty(ds);
  const isTest = new Uint8Array(n);
  if (o.cutoff !== undefined) {
    if (typeof o.cutoff !== 'number' || !Number.isFinite(o.cutoff)) throw argError(`cutoff must be a finite number, got ${show(o.cutoff)}`);
    for (let p = 0; p < n; p++) if (times[p]! >= o.cutoff) isTest[p] = 1;
  } else {
    const f = fraction(o.testFraction, 'testFraction');
    const order = Array.from(identity(n));
    order.sort((x, y) => times[x]! - times[y]!); // stable: ties stay in (user, item) order
    for (let j = n - Math.ceil(f * n); j < n; j++) isTest[order[j]!] = 1;
  }
  return partition(ds, isTest);
}

/**
 * K-fold cross-validation folds, as Surprise's KFold: the interactions (shuffled when `shuffle`) are cut into
 * `folds` consecutive parts whose sizes differ by at most one (the first n % folds parts get one more); each part
 * is the test set once, the rest its training set. Without shuffle the order is CSR order (users, then items).
 */
export function kFold(ds: Dataset, options: KFoldOptions = {}): TrainTest[] {
  const o = object(options, 'kFold options');
  const folds = positiveInt(o.folds ?? 5, 'folds');
  if (folds < 2) throw argError(`folds must be at least 2, got ${show(folds)}`);
  const shuffle = o.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw argError('shuffle must be a boolean');
  const seed = seedOf(o.seed);
  const n = nonEmpty(ds);
  if (folds > n) throw argError(`folds (${folds}) cannot exceed the number of interactions (${n})`);
  const order = identity(n);
  if (shuffle) new Rng(seed).shuffle(order);
  const out: TrainTest[] = [];
  let stop = 0;
  for (let f = 0; f < folds; f++) {
    const start = stop;
    stop += Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    const isTest = new Uint8Array(n);
    for (let p = start; p < stop; p++) isTest[order[p]!] = 1;
    out.push(partition(ds, isTest));
  }
  return out;
}

/**
 * How many of n interactions MS Recommenders' stratified split keeps in train for a train ratio: the count of
 * r in 1..n with r / n <= ratio, computed with the same floating-point comparison.
 */
export function stratifiedTrainCount(n: number, ratio: number): number {
  let c = Math.min(n, Math.max(0, Math.floor(ratio * n)));
  while (c < n && (c + 1) / n <= ratio) c++;
  while (c > 0 && c / n > ratio) c--;
  return c;
}

// ---- helpers -------------------------------------------------------------------------------------------

/** Splits the dataset's interactions (CSR positions) into train (0) and test (1), sharing the id maps. */
function partition(ds: Dataset, isTest: Uint8Array): TrainTest {
  const { rows, cols, values, times } = ds.toCoo();
  const n = rows.length;
  let nTest = 0;
  for (let p = 0; p < n; p++) nTest += isTest[p]!;
  if (nTest === 0) throw new RecsysError('E_EMPTY', 'the split leaves the test set empty');
  if (nTest === n) throw new RecsysError('E_EMPTY', 'the split leaves the training set empty');
  const pick = (want: number, size: number) => {
    const r = new Int32Array(size);
    const c = new Int32Array(size);
    const v = values ? new Float32Array(size) : undefined;
    const t = times ? new Float64Array(size) : undefined;
    let q = 0;
    for (let p = 0; p < n; p++) {
      if (isTest[p] !== want) continue;
      r[q] = rows[p]!;
      c[q] = cols[p]!;
      if (v) v[q] = values![p]!;
      if (t) t[q] = times![p]!;
      q++;
    }
    const part = Dataset.fromCoo(ds.users, ds.items, r, c, v, t);
    part.itemInfo = ds.itemInfo; // same id maps, so the display data by dense index still applies
    return part;
  };
  return { train: pick(0, n - nTest), test: pick(1, nTest) };
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let p = 0; p < n; p++) a[p] = p;
  return a;
}

function nonEmpty(ds: Dataset): number {
  if (!ds || typeof ds !== 'object' || !('csr' in ds)) throw argError('expected a Dataset');
  if (ds.nnz === 0) throw new RecsysError('E_EMPTY', 'cannot split an empty dataset');
  return ds.nnz;
}

function needTimes(ds: Dataset, fn: string): Float64Array {
  if (!ds || typeof ds !== 'object' || !('csr' in ds)) throw argError('expected a Dataset');
  const t = ds.csr.times;
  if (!t) throw argError(`${fn} needs timestamps, and this dataset has none`);
  return t;
}

function object<T>(o: T, what: string): T {
  if (o === null || typeof o !== 'object') throw argError(`${what} must be an object`);
  return o;
}

function fraction(v: unknown, name: string): number {
  if (typeof v !== 'number' || !(v > 0 && v < 1)) throw argError(`${name} must be a number in (0, 1), got ${show(v)}`);
  return v;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw argError(`${name} must be an integer >= 1, got ${show(v)}`);
  return v;
}

function nonNegativeInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw argError(`${name} must be an integer >= 0, got ${show(v)}`);
  return v;
}

function seedOf(v: unknown): number {
  const s = v ?? 42;
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) throw argError(`seed must be a non-negative safe integer, got ${show(v)}`);
  return s;
}
