import { describe, expect, it } from 'vitest';
import { Dataset } from '../../ts/data/dataset.js';
import { IdMap } from '../../ts/data/idmap.js';
import { perUserSplit, randomSplit } from '../../ts/data/split.js';
import { crossValidate, evaluate, type EvaluateOptions, type MetricName, type Scorer } from '../../ts/eval/evaluate.js';
import { referenceEvaluate } from '../../ts/eval/reference.js';
import { BaselineOnly, Popularity, Random } from '../../ts/models/baseline.js';
import { synthetic } from '../helpers/synthetic.js';
import { code } from '../helpers/rejection.js';

/** A test-only model: fixed score rows per user and a constant prediction. */
class FixedScorer implements Scorer {
  constructor(
    readonly trainData: Dataset,
    private readonly rows: number[][],
    private readonly prediction = 3,
  ) {}
  scoreUsersDense(users: Int32Array): Float32Array {
    const n = this.trainData.nItems;
    const out = new Float32Array(users.length * n);
    users.forEach((u, r) => out.set(this.rows[u]!, r * n));
    return out;
  }
  predictDense(users: Int32Array): Float32Array {
    return new Float32Array(users.length).fill(this.prediction);
  }
}

/** 3 users x 6 items, hand-made: see the comments in the test for the expected numbers. */
function handCase() {
  const users = new IdMap([0, 1, 2]);
  const items = new IdMap([0, 1, 2, 3, 4, 5]);
  // train: u0 {0}; u1 {1, 2}; u2 nothing (cold).  test: u0 {1:4, 3:2, 5:5}; u1 {0:3}; u2 {4:1}.
  const train = Dataset.fromCoo(users, items, Int32Array.of(0, 1, 1), Int32Array.of(0, 1, 2), Float32Array.of(3, 3, 3));
  const test = Dataset.fromCoo(users, items, Int32Array.of(0, 0, 0, 1, 2), Int32Array.of(1, 3, 5, 0, 4), Float32Array.of(4, 2, 5, 3, 1));
  const scores = [
    [0.9, 0.5, 0.7, 0.8, 0.3, 0.1], // u0 ranks (item 0 excluded): 3, 2, 1, 4, 5
    [0.2, 0.9, 0.9, 0.6, 0.6, 0.4], // u1 ranks (1, 2 excluded): 3, 4 (tie -> smaller index first), 5, 0
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
  ];
  return { train, test, model: new FixedScorer(train, scores) };
}

const ALL: MetricName[] = ['precision', 'recall', 'ndcg', 'map', 'map_full', 'recall_min', 'precision_implicit', 'mrr', 'hit_rate', 'auc', 'coverage'];

describe('evaluate: hand-computed case', () => {
  const { test, model } = handCase();

  it('ranking metrics at K = 1 and 3 (u2 has no training data and is skipped)', () => {
    const r = evaluate(model, test, { k: [3, 1], metrics: ALL, threads: 1 });
    // u0, K=3: top [3, 2, 1], hits at ranks 1 and 3 -> 2 hits, |test| = 3.
    //   precision 2/3, recall 2/3, ndcg (1/log2 2 + 1/log2 4) / (1/log2 2 + 1/log2 3 + 1/log2 4) = 1.5 / 2.1309298,
    //   AP sum 1/1 + 2/3 = 5/3 -> map 5/9 (min(3,3) = 3), map_full 5/9, mrr 1.
    // u1, K=3: top [3, 4, 5], test item 0 ranks 4th -> all zero.  Means over 2 users:
    expect(r.users).toBe(2);
    expect(r['precision@3']).toBeCloseTo(1 / 3, 12);
    expect(r['recall@3']).toBeCloseTo(1 / 3, 12);
    expect(r['recall_min@3']).toBeCloseTo(1 / 3, 12);
    expect(r['ndcg@3']).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3) + 0.5) / 2, 12); // 0.351959
    expect(r['ndcg@3']).toBeCloseTo(0.351959, 6);
    expect(r['map@3']).toBeCloseTo(5 / 9 / 2, 12);
    expect(r['map_full@3']).toBeCloseTo(5 / 9 / 2, 12);
    expect(r['mrr@3']).toBeCloseTo(0.5, 12);
    expect(r['hit_rate@3']).toBeCloseTo(0.5, 12);
    // implicit-style precision: total hits / total min(K, |test|) = (2 + 0) / (3 + 1).
    expect(r['precision_implicit@3']).toBeCloseTo(0.5, 12);
    // K=1: u0 top [3] hit; u1 top [3] miss.  precision (1 + 0)/2; recall (1/3)/2; recall_min (1/1)/2;
    // ndcg 1/2; map@1 = (1/min(1,3))/2 = 1/2; map_full = (1/3)/2; precision_implicit (1 + 0)/(1 + 1).
    expect(r['precision@1']).toBeCloseTo(0.5, 12);
    expect(r['recall@1']).toBeCloseTo(1 / 6, 12);
    expect(r['recall_min@1']).toBeCloseTo(0.5, 12);
    expect(r['ndcg@1']).toBeCloseTo(0.5, 12);
    expect(r['map@1']).toBeCloseTo(0.5, 12);
    expect(r['map_full@1']).toBeCloseTo(1 / 6, 12);
    expect(r['precision_implicit@1']).toBeCloseTo(0.5, 12);
    expect(r['mrr@1']).toBeCloseTo(0.5, 12);
    // AUC u0: positives 1 (.5), 3 (.8), 5 (.1) vs negatives 2 (.7), 4 (.3): right pairs 3>2, 3>4, 1>4 = 3 of 6.
    // u1: positive 0 (.2) below 3, 4, 5 -> 0.  Mean 0.25.
    expect(r.auc).toBeCloseTo(0.25, 12);
    // Coverage: top-1 lists {3}, {3} -> 1 of 6 items; top-3 {3,2,1} and {3,4,5} -> 5 of 6.
    expect(r['coverage@1']).toBeCloseTo(1 / 6, 12);
    expect(r['coverage@3']).toBeCloseTo(5 / 6, 12);
  });

  it('graded NDCG (raw rating and 2^r - 1 gains)', () => {
    // u0 test ratings: item 1 -> 4, item 3 -> 2, item 5 -> 5. Top 3 [3, 2, 1]: DCG = 2/log2 2 + 4/log2 4 = 4;
    // ideal [5, 4, 2]: 5 + 4/log2 3 + 2/2 = 8.523719. u1: 0.  Mean = 4 / 8.523719 / 2 = 0.2346395.
    const raw = evaluate(model, test, { k: 3, metrics: ['ndcg'], gain: 'raw' });
    expect(raw['ndcg@3']).toBeCloseTo(4 / (5 + 4 / Math.log2(3) + 1) / 2, 12);
    // exp gains 2^r - 1: item 3 -> 3, item 1 -> 15, item 5 -> 31. DCG = 3 + 15/2 = 10.5;
    // ideal 31 + 15/log2 3 + 3/2 = 41.963946.
    const exp = evaluate(model, test, { k: 3, metrics: ['ndcg'], gain: 'exp' });
    expect(exp['ndcg@3']).toBeCloseTo(10.5 / (31 + 15 / Math.log2(3) + 1.5) / 2, 12);
  });

  it('sampled protocol with fewer candidates than negatives (all candidates used)', () => {
    // u0 candidates = items in neither train nor test = {2 (.7), 4 (.3)}. Ranks (ties above the positive):
    //   item 1 (.5): 2 above -> rank 2; item 3 (.8): rank 1; item 5 (.1): rank 3.
    //   HR@1 = 1/3, NDCG@1 = 1/3; HR@3 = 3/3, NDCG@3 = (1/log2 3 + 1 + 1/log2 4) / 3.
    // u1 candidates {3, 4, 5} all above item 0 -> rank 4: zero at K = 1 and 3.
    const r = evaluate(model, test, { k: [1, 3], metrics: ['sampled_hit_rate', 'sampled_ndcg'], negatives: 99 });
    expect(r['sampled_hit_rate@1']).toBeCloseTo(1 / 6, 12);
    expect(r['sampled_ndcg@1']).toBeCloseTo(1 / 6, 12);
    expect(r['sampled_hit_rate@3']).toBeCloseTo(0.5, 12);
    expect(r['sampled_ndcg@3']).toBeCloseTo((1 / Math.log2(3) + 1 + 0.5) / 3 / 2, 12);
  });

  it('rating metrics count every pair, unknown users included', () => {
    // Constant prediction 3 against test ratings 4, 2, 5, 3, 1: errors 1, -1, 2, 0, -2.
    // RMSE = sqrt((1 + 1 + 4 + 0 + 4) / 5) = sqrt(2); MAE = 6 / 5.
    const r = evaluate(model, test, { metrics: ['rmse', 'mae'] });
    expect(r.rmse).toBeCloseTo(Math.SQRT2, 6);
    expect(r.mae).toBeCloseTo(1.2, 6);
  });

  it('cold users can be included, relevance can be thresholded', () => {
    // u2 (no training data) ranks all 6 items: 5, 4, ... -> test item 4 at rank 2 -> precision@3 = 1/3.
    const r = evaluate(model, test, { k: 3, metrics: ['precision'], coldUsers: 'include' });
    expect(r.users).toBe(3);
    expect(r['precision@3']).toBeCloseTo((2 / 3 + 0 + 1 / 3) / 3, 12);
    // Only ratings >= 4 relevant: u0 keeps items 1 and 5 (top 3 [3, 2, 1] -> 1 hit), u1 and u2 have none.
    const t = evaluate(model, test, { k: 3, metrics: ['precision', 'recall'], relevanceThreshold: 4 });
    expect(t.users).toBe(1);
    expect(t['precision@3']).toBeCloseTo(1 / 3, 12);
    expect(t['recall@3']).toBeCloseTo(1 / 2, 12);
  });

  it('matches the TS reference on the hand case', () => {
    const opts: EvaluateOptions = { k: [1, 2, 3, 10], metrics: [...ALL, 'sampled_hit_rate', 'sampled_ndcg', 'rmse', 'mae'] };
    expectClose(evaluate(model, test, opts), referenceEvaluate(model, test, opts));
  });
});

function expectClose(a: Record<string, number>, b: Record<string, number>): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const key of Object.keys(b)) {
    if (Number.isNaN(b[key]!)) expect(a[key], key).toBeNaN();
    else expect(Math.abs(a[key]! - b[key]!), `${key}: ${a[key]} vs ${b[key]}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(b[key]!)));
  }
}

describe('evaluate vs the TS reference on random data', () => {
  const ds = synthetic({ users: 120, items: 80, minPerUser: 2, maxPerUser: 30, seed: 21, skew: true });
  const { train, test } = perUserSplit(ds, { testFraction: 0.3, seed: 4 });
  const metrics: MetricName[] = [...ALL, 'sampled_hit_rate', 'sampled_ndcg', 'rmse', 'mae'];

  for (const [name, make] of [
    ['Popularity', () => new Popularity()],
    ['Random', () => new Random({ seed: 3 })],
    ['BaselineOnly', () => new BaselineOnly()],
  ] as const) {
    it(`${name}: every metric, several K, blocks and threads`, () => {
      const model = make().fit(train);
      // rmse / mae only for a model that predicts ratings (a ranking model's scores are not ratings).
      const asked = model.tasks.includes('rating') ? metrics : metrics.filter((m) => m !== 'rmse' && m !== 'mae');
      const opts: EvaluateOptions = { k: [1, 5, 10, 50, 100], metrics: asked, negatives: 20, seed: 5 };
      const ref = referenceEvaluate(model, test, opts);
      const one = evaluate(model, test, { ...opts, threads: 1 });
      expectClose(one, ref);
      // The same numbers, bit for bit, for any thread count and block size.
      expect(evaluate(model, test, { ...opts, threads: 2, blockSize: 7 })).toEqual(one);
      expect(evaluate(model, test, { ...opts, threads: 3, blockSize: 1 })).toEqual(one);
    });
  }

  it('graded gains, thresholds and cold users agree with the reference', () => {
    const model = new Random({ seed: 8 }).fit(train);
    for (const extra of [{ gain: 'raw' }, { gain: 'exp' }, { relevanceThreshold: 4 }, { coldUsers: 'include' }] as EvaluateOptions[]) {
      const opts: EvaluateOptions = { k: [3, 10], metrics: [...ALL, 'sampled_ndcg'], negatives: 10, ...extra };
      expectClose(evaluate(model, test, opts), referenceEvaluate(model, test, opts));
    }
  });

  it('sampled negatives: a large catalogue uses rejection sampling, same result as the reference', () => {
    const big = synthetic({ users: 40, items: 2000, minPerUser: 3, maxPerUser: 12, seed: 2 });
    const s = perUserSplit(big, { testCount: 1, seed: 2 });
    const model = new Random({ seed: 1 }).fit(s.train);
    const opts: EvaluateOptions = { k: [1, 10], metrics: ['sampled_hit_rate', 'sampled_ndcg'] };
    expectClose(evaluate(model, s.test, opts), referenceEvaluate(model, s.test, opts));
  });

  it('sampled negatives are distinct, outside train and test, and reproducible', async () => {
    const { addon } = await import('../../ts/native.js');
    const trainRow = Int32Array.of(0, 3, 4, 9);
    const testRow = Int32Array.of(2, 5, 12);
    const draw = (seed: number, items: number, trainR: Int32Array, testR: Int32Array, n: number) => addon._sampleNegatives(items, seed, 3, trainR, testR, n);
    for (const items of [40, 14]) {
      // 40 items: 33 candidates, rejection sampling; 14 items: 7 candidates (< 2 x 10 ... listed), all 7 used.
      const a = draw(7, items, trainRow, testRow, 10);
      expect(Array.from(a.positions)).toEqual([0, 1, 2]);
      const banned = new Set([...trainRow, ...testRow]);
      for (let j = 0; j < 3; j++) {
        const negs = Array.from(a.negatives.subarray(a.offsets[j]!, a.offsets[j + 1]!));
        expect(negs.length).toBe(Math.min(10, items - 7));
        expect(new Set(negs).size).toBe(negs.length);
        for (const i of negs) expect(i >= 0 && i < items && !banned.has(i)).toBe(true);
      }
      expect(draw(7, items, trainRow, testRow, 10)).toEqual(a);
    }
    expect(draw(8, 40, trainRow, testRow, 10).negatives).not.toEqual(draw(7, 40, trainRow, testRow, 10).negatives);
    // A test item past the catalogue or in train gets no negatives (it counts as a miss).
    expect(Array.from(draw(7, 10, trainRow, Int32Array.of(3, 6, 12), 5).positions)).toEqual([1]);
  });
});

describe('evaluate: protocol checks', () => {
  it('a random model scores HR@10 about 10/100 under the sampled protocol', () => {
    const ds = synthetic({ users: 600, items: 300, minPerUser: 5, maxPerUser: 20, seed: 9 });
    const s = perUserSplit(ds, { testCount: 1, seed: 1 });
    const model = new Random({ seed: 2 }).fit(s.train);
    const r = evaluate(model, s.test, { k: 10, metrics: ['sampled_hit_rate'] });
    // 600 Bernoulli(0.1) trials: standard deviation 0.012.
    expect(Math.abs(r['sampled_hit_rate@10']! - 0.1)).toBeLessThan(0.04);
  });

  it('unknown users and items take the model fallback and are counted (remapped test set)', () => {
    const train = Dataset.fromArrays({ users: ['a', 'a', 'b', 'b', 'c'], items: ['x', 'y', 'x', 'z', 'y'], ratings: [5, 3, 4, 2, 1] });
    const model = new BaselineOnly().fit(train);
    // A test set with its own id maps: user 'd' and item 'w' are new to the model.
    const test = Dataset.fromArrays({ users: ['a', 'd', 'b'], items: ['z', 'x', 'w'], ratings: [4, 3, 5] });
    const preds = [model.predict('a', 'z'), model.predict('d', 'x'), model.predict('b', 'w')];
    const errs = preds.map((p, j) => p - [4, 3, 5][j]!);
    const r = evaluate(model, test, { metrics: ['rmse', 'mae'] });
    expect(r.rmse).toBeCloseTo(Math.sqrt(errs.reduce((s, e) => s + e * e, 0) / 3), 6);
    expect(r.mae).toBeCloseTo(errs.reduce((s, e) => s + Math.abs(e), 0) / 3, 6);
    // Ranking on the remapped set: 'd' is skipped; 'b' has item 'w', which no ranking can hit (counts in |test|).
    const k = evaluate(model, test, { k: 2, metrics: ['recall', 'precision'] });
    expect(k.users).toBe(2);
    // a: candidates z only (x, y seen) -> hit; b: candidates y (w unknown) -> miss.  recall (1 + 0)/2.
    expect(k['recall@2']).toBeCloseTo(0.5, 12);
    expect(k['precision@2']).toBeCloseTo(0.25, 12);
  });

  it('argument errors: k < 1, empty test, unknown metric, ratings needed', () => {
    const { test, model } = handCase();
    expect(code(() => evaluate(model, test, { k: 0 }))).toBe('E_ARG');
    expect(code(() => evaluate(model, test, { k: [5, -1] }))).toBe('E_ARG');
    expect(code(() => evaluate(model, test, { k: 2.5 }))).toBe('E_ARG');
    expect(code(() => evaluate(model, test, { metrics: ['bogus' as MetricName] }))).toBe('E_ARG');
    expect(code(() => evaluate(model, test, { metrics: 'ndcg' as never }))).toBe('E_ARG');
    expect(code(() => evaluate(model, test, { metrics: [] }))).toBe('E_ARG');
    expect(code(() => evaluate(model, test, { threads: -1 }))).toBe('E_ARG');
    expect(code(() => evaluate(model, test, { negatives: 0, metrics: ['sampled_ndcg'] }))).toBe('E_ARG');
    const empty = Dataset.fromCoo(test.users, test.items, new Int32Array(0), new Int32Array(0), new Float32Array(0));
    expect(code(() => evaluate(model, empty))).toBe('E_EMPTY');
    const implicitTest = Dataset.fromCoo(test.users, test.items, Int32Array.of(0), Int32Array.of(1));
    expect(code(() => evaluate(model, implicitTest, { metrics: ['rmse'] }))).toBe('E_ARG');
    expect(code(() => evaluate(model, implicitTest, { metrics: ['ndcg'], gain: 'raw' }))).toBe('E_ARG');
    // Only a cold user in test: nobody can be ranked.
    const coldOnly = Dataset.fromCoo(test.users, test.items, Int32Array.of(2), Int32Array.of(4), Float32Array.of(1));
    expect(code(() => evaluate(model, coldOnly, { metrics: ['ndcg'] }))).toBe('E_EMPTY');
    // A train set with other id maps is refused.
    const other = Dataset.fromArrays({ users: [0], items: [0], ratings: [1] });
    expect(code(() => evaluate(model, test, { train: other }))).toBe('E_ARG');
  });

  it('the native metric function validates what it is handed', async () => {
    const { addon } = await import('../../ts/native.js');
    const { train, test } = handCase();
    const s = new Float32Array(6);
    const users = Int32Array.of(0);
    const o = { gain: 'binary', auc: false, negatives: 0, seed: 42, threads: 0 };
    expect(() => addon.rankingMetrics(new Float32Array(5), 6, users, train.csr, test.csr, Int32Array.of(3), o)).toThrow(/scores/);
    expect(() => addon.rankingMetrics(s, 6, Int32Array.of(7), train.csr, test.csr, Int32Array.of(3), o)).toThrow(/users/);
    expect(() => addon.rankingMetrics(s, 6, users, train.csr, test.csr, Int32Array.of(3, 1), o)).toThrow(/ascending/);
    expect(() => addon.rankingMetrics(s, 6, users, train.csr, test.csr, Int32Array.of(0), o)).toThrow(/k must be/);
    const bad = { ...test.csr, indices: Int32Array.of(3, 1, 5, 0, 4) };
    expect(() => addon.rankingMetrics(s, 6, users, train.csr, bad, Int32Array.of(3), o)).toThrow(/sorted/);
  });
});

describe('crossValidate', () => {
  const ds = synthetic({ users: 80, items: 50, minPerUser: 3, maxPerUser: 20, seed: 13 });

  it('KFold inside: mean and std per metric plus fit and test times', () => {
    const cv = crossValidate(() => new BaselineOnly(), ds, { folds: 4, seed: 2, metrics: ['rmse', 'mae', 'ndcg'], k: 5 });
    expect(cv.folds).toHaveLength(4);
    for (const key of ['rmse', 'mae', 'ndcg@5', 'fit_time', 'test_time']) {
      const v = cv.folds.map((f) => f[key]!);
      const m = v.reduce((a, b) => a + b, 0) / 4;
      expect(cv.mean[key]).toBeCloseTo(m, 12);
      expect(cv.std[key]).toBeCloseTo(Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / 4), 12);
    }
    expect(cv.std.rmse).toBeGreaterThan(0);
    // Same seed, same folds, same numbers.
    const again = crossValidate(() => new BaselineOnly(), ds, { folds: 4, seed: 2, metrics: ['rmse'] });
    expect(again.folds.map((f) => f.rmse)).toEqual(cv.folds.map((f) => f.rmse));
  });

  it('accepts predefined folds', () => {
    const folds = [randomSplit(ds, { testFraction: 0.2, seed: 1 }), randomSplit(ds, { testFraction: 0.2, seed: 2 })];
    const cv = crossValidate((f) => new BaselineOnly({ epochs: 5 + f }), folds, { metrics: ['rmse'] });
    const direct = folds.map((f, j) => evaluate(new BaselineOnly({ epochs: 5 + j }).fit(f.train), f.test, { metrics: ['rmse'] }).rmse!);
    expect(cv.folds.map((f) => f.rmse)).toEqual(direct);
    expect(code(() => crossValidate(() => new BaselineOnly(), [], {}))).toBe('E_ARG');
  });
});
