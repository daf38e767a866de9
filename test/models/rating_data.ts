// Generated rating data for the rating-model tests: a planted low-rank matrix plus biases plus Gaussian noise,
// sampled at random cells and split into train and test. Seeded, so every run sees the same data.
import { Dataset } from '../../ts/data/dataset.js';
import type { Id } from '../../ts/data/idmap.js';
import type { Recommender } from '../../ts/models/base.js';
import { addon, type NativeAddon } from '../../ts/native.js';
import { mulberry32 } from '../helpers/random.js';

export function gaussian(rnd: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(rnd() + 1e-300)) * Math.cos(2 * Math.PI * rnd());
}

export interface PlantedOptions {
  users?: number;
  items?: number;
  rank?: number;
  /** Fraction of cells observed. */
  density?: number;
  /** Standard deviation of the noise added to every rating. */
  noise?: number;
  /** Standard deviation of each factor entry (uniform in [factorScale, 2 x factorScale) when nonNegative). */
  factorScale?: number;
  biasScale?: number;
  mu?: number;
  /** Non-negative factors and no biases or mean (for NMF). */
  nonNegative?: boolean;
  testFraction?: number;
  seed?: number;
}

export interface Planted {
  train: Dataset;
  /** Test pairs as dense indices of train's id maps (all known in train), with their noisy ratings. */
  testUsers: Int32Array;
  testItems: Int32Array;
  testRatings: Float32Array;
  /** The noise-free value of each test pair. */
  testTruth: Float64Array;
  noise: number;
}

export function planted(o: PlantedOptions = {}): Planted {
  const nu = o.users ?? 200;
  const ni = o.items ?? 150;
  const rank = o.rank ?? 3;
  const density = o.density ?? 0.3;
  const noise = o.noise ?? 0.1;
  const fs = o.factorScale ?? 0.5;
  const bs = o.biasScale ?? 0.3;
  const mu = o.nonNegative ? 0 : (o.mu ?? 3);
  const rnd = mulberry32(o.seed ?? 7);
  const g = gaussian(rnd);
  const draw = () => (o.nonNegative ? fs * (1 + rnd()) : fs * g());
  const P = Float64Array.from({ length: nu * rank }, draw);
  const Q = Float64Array.from({ length: ni * rank }, draw);
  const bu = Float64Array.from({ length: nu }, () => (o.nonNegative ? 0 : bs * g()));
  const bi = Float64Array.from({ length: ni }, () => (o.nonNegative ? 0 : bs * g()));
  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  const truth: number[] = [];
  const isTest: boolean[] = [];
  for (let u = 0; u < nu; u++) {
    for (let i = 0; i < ni; i++) {
      if (rnd() >= density) continue;
      let t = mu + bu[u]! + bi[i]!;
      for (let f = 0; f < rank; f++) t += P[u * rank + f]! * Q[i * rank + f]!;
      users.push(u);
      items.push(i);
      truth.push(t);
      ratings.push(t + noise * g());
      isTest.push(rnd() < (o.testFraction ?? 0.1));
    }
  }
  // Every user and item keeps at least its first rating in train, so test pairs are all known.
  const seenU = new Set<number>();
  const seenI = new Set<number>();
  for (let p = 0; p < users.length; p++) {
    if (!seenU.has(users[p]!) || !seenI.has(items[p]!)) isTest[p] = false;
    seenU.add(users[p]!);
    seenI.add(items[p]!);
  }
  const tr = users.map((_, p) => p).filter((p) => !isTest[p]);
  const te = users.map((_, p) => p).filter((p) => isTest[p]);
  const train = Dataset.fromArrays({ users: tr.map((p) => users[p]!), items: tr.map((p) => items[p]!), ratings: tr.map((p) => ratings[p]!) });
  return {
    train,
    testUsers: Int32Array.from(te, (p) => train.users.index(users[p]!)),
    testItems: Int32Array.from(te, (p) => train.items.index(items[p]!)),
    testRatings: Float32Array.from(te, (p) => ratings[p]!),
    testTruth: Float64Array.from(te, (p) => truth[p]!),
    noise,
  };
}

export function rmse(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let s = 0;
  for (let p = 0; p < truth.length; p++) s += (pred[p]! - truth[p]!) ** 2;
  return Math.sqrt(s / truth.length);
}

/** Max absolute difference of two arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let p = 0; p < a.length; p++) m = Math.max(m, Math.abs(a[p]! - b[p]!));
  return m;
}

/** The error code a native fit function throws for the given arguments (undefined when it does not throw). */
export function nativeCode(fitName: keyof NativeAddon, ...args: unknown[]): string | undefined {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the addon's functions do not use `this`
  const f = addon[fitName] as (...a: unknown[]) => unknown;
  try {
    f(...args);
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
  return undefined;
}

/** train without one user's ratings (same id maps), and that user's training ratings as fold-in input. */
export function withoutUser(train: Dataset, u: number): { rest: Dataset; items: Id[]; ratings: number[] } {
  const { rows, cols, values } = train.toCoo();
  const keep: number[] = [];
  for (let p = 0; p < rows.length; p++) if (rows[p] !== u) keep.push(p);
  const rest = Dataset.fromCoo(
    train.users,
    train.items,
    Int32Array.from(keep, (p) => rows[p]!),
    Int32Array.from(keep, (p) => cols[p]!),
    Float32Array.from(keep, (p) => values![p]!),
  );
  return { rest, items: Array.from(train.userItems(u), (i) => train.items.id(i)), ratings: Array.from(train.userValues(u)!) };
}

/** The folded-in scores of a planted dataset's test pairs of user u. */
export function foldInTestError(model: Recommender, d: Planted, u: number, items: Id[], ratings: number[]): number {
  const recs = model.recommendForNewUser({ items, ratings }, { k: d.train.nItems, filterSeen: false });
  const score = new Map(recs.map((r) => [r.item, r.score]));
  const pred: number[] = [];
  const truth: number[] = [];
  for (let p = 0; p < d.testUsers.length; p++) {
    if (d.testUsers[p] !== u) continue;
    pred.push(score.get(d.train.items.id(d.testItems[p]!))!);
    truth.push(d.testRatings[p]!);
  }
  if (pred.length === 0) throw new Error(`user ${u} has no test pairs`);
  return rmse(pred, truth);
}
