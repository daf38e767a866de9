// Plain TypeScript reference of every metric evaluate() computes: one user at a time, a full sort per user,
// straight loops written from the definitions in evaluate.ts. Tests compare evaluate() with it, and benchmarks
// use it as the baseline. Only the scores (model.scoreUsersDense / predictDense) and, for the sampled protocol,
// the sampled negatives (addon._sampleNegatives, the same draw evaluate makes) come from the native side.
import { RecsysError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { addon } from '../native.js';
import { RANKING, defaultMetrics, type EvaluateOptions, type EvaluationResult, type Scorer } from './evaluate.js';

/** evaluate() written the slow, obvious way (same options and result keys; test must share the model's id maps). */
export function referenceEvaluate(model: Scorer, test: Dataset, options: EvaluateOptions = {}): EvaluationResult {
  const train = options.train ?? model.trainData;
  if (test.users !== model.trainData.users || test.items !== model.trainData.items) {
    throw new RecsysError('E_ARG', 'referenceEvaluate needs a test set that shares the model id maps');
  }
  const ks = [...new Set(typeof options.k === 'number' ? [options.k] : [...(options.k ?? [10])])].sort((a, b) => a - b);
  const metrics: string[] = [...(options.metrics ?? defaultMetrics(model.tasks, test))];
  const want = (m: string) => metrics.includes(m);
  const nItems = model.trainData.nItems;
  const nUsers = model.trainData.nUsers;
  const gain = options.gain ?? 'binary';
  const out: EvaluationResult = {};

  // Rating metrics: every test pair.
  if (want('rmse') || want('mae')) {
    let se = 0;
    let ae = 0;
    let n = 0;
    for (let u = 0; u < test.nUsers; u++) {
      const items = test.userItems(u);
      const vals = test.userValues(u)!;
      for (let p = 0; p < items.length; p++) {
        const pred = model.predictDense(Int32Array.of(u), Int32Array.of(items[p]!))[0]!;
        se += (pred - vals[p]!) ** 2;
        ae += Math.abs(pred - vals[p]!);
        n++;
      }
    }
    if (want('rmse')) out.rmse = Math.sqrt(se / n);
    if (want('mae')) out.mae = ae / n;
  }

  if (!metrics.some((m) => RANKING.includes(m))) return out;

  const acc: Record<string, number> = {};
  const add = (key: string, v: number) => {
    acc[key] = (acc[key] ?? 0) + v;
  };
  const covered = ks.map(() => new Set<number>());
  let users = 0;
  let aucSum = 0;
  let aucUsers = 0;
  for (let u = 0; u < Math.min(nUsers, test.nUsers); u++) {
    // Relevant test items (and their gains) of this user.
    const tItems = Array.from(test.userItems(u));
    const tVals = test.userValues(u);
    const relevant = new Map<number, number>();
    tItems.forEach((i, p) => {
      const r = tVals ? tVals[p]! : 1;
      if (options.relevanceThreshold !== undefined && r < options.relevanceThreshold) return;
      relevant.set(i, gain === 'binary' ? 1 : gain === 'raw' ? r : 2 ** r - 1);
    });
    const nTest = relevant.size;
    if (nTest === 0) continue;
    const seen = new Set(u < train.nUsers ? Array.from(train.userItems(u)) : []);
    if ((options.coldUsers ?? 'skip') === 'skip' && seen.size === 0) continue;
    users++;
    const scores = model.scoreUsersDense(Int32Array.of(u));
    // Full ranking: every unseen item, best score first, ties to the smaller index, NaN never ranked.
    const ranked: number[] = [];
    for (let i = 0; i < nItems; i++) if (!seen.has(i) && !Number.isNaN(scores[i]!)) ranked.push(i);
    ranked.sort((a, b) => scores[b]! - scores[a]! || a - b);
    const idealGains = [...relevant.values()].sort((a, b) => b - a);
    ks.forEach((k, q) => {
      const top = ranked.slice(0, k);
      for (const i of top) covered[q]!.add(i);
      let hits = 0;
      let dcg = 0;
      let apSum = 0;
      let firstHit = 0;
      top.forEach((i, j) => {
        if (!relevant.has(i)) return;
        hits++;
        dcg += relevant.get(i)! / Math.log2(j + 2);
        apSum += hits / (j + 1);
        if (firstHit === 0) firstHit = j + 1;
      });
      let idcg = 0;
      for (let j = 0; j < Math.min(k, nTest); j++) idcg += idealGains[j]! / Math.log2(j + 2);
      add(`precision@${k}`, hits / k);
      add(`recall@${k}`, hits / nTest);
      add(`recall_min@${k}`, hits / Math.min(k, nTest));
      add(`ndcg@${k}`, idcg > 0 ? dcg / idcg : 0);
      add(`map@${k}`, apSum / Math.min(k, nTest));
      add(`map_full@${k}`, apSum / nTest);
      add(`mrr@${k}`, firstHit ? 1 / firstHit : 0);
      add(`hit_rate@${k}`, hits > 0 ? 1 : 0);
      add(`hits_total@${k}`, hits);
      add(`denom_total@${k}`, Math.min(k, nTest));
    });
    if (want('auc')) {
      const val = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
      const pos = [...relevant.keys()].filter((i) => i < nItems && !seen.has(i));
      const neg: number[] = [];
      for (let i = 0; i < nItems; i++) if (!seen.has(i) && !relevant.has(i)) neg.push(i);
      if (pos.length > 0 && neg.length > 0) {
        let right = 0;
        for (const p of pos) for (const n of neg) right += val(p) > val(n) ? 1 : val(p) === val(n) ? 0.5 : 0;
        aucSum += right / (pos.length * neg.length);
        aucUsers++;
      }
    }
    if (want('sampled_hit_rate') || want('sampled_ndcg')) {
      const testRow = Int32Array.from([...relevant.keys()].sort((a, b) => a - b));
      const trainRow = Int32Array.from([...seen].sort((a, b) => a - b));
      const s = addon._sampleNegatives(nItems, options.seed ?? 42, u, trainRow, testRow, options.negatives ?? 99);
      const hr = ks.map(() => 0);
      const nd = ks.map(() => 0);
      for (let j = 0; j < s.positions.length; j++) {
        const pos = testRow[s.positions[j]!]!;
        if (Number.isNaN(scores[pos]!)) continue;
        let rank = 1;
        for (let q = s.offsets[j]!; q < s.offsets[j + 1]!; q++) if (scores[s.negatives[q]!]! >= scores[pos]!) rank++;
        ks.forEach((k, q) => {
          if (rank <= k) {
            hr[q]! += 1;
            nd[q]! += 1 / Math.log2(rank + 1);
          }
        });
      }
      ks.forEach((k, q) => {
        add(`sampled_hit_rate@${k}`, hr[q]! / nTest);
        add(`sampled_ndcg@${k}`, nd[q]! / nTest);
      });
    }
  }
  if (users === 0) throw new RecsysError('E_EMPTY', 'no test user can be ranked');
  ks.forEach((k, q) => {
    for (const m of ['precision', 'recall', 'ndcg', 'map', 'map_full', 'recall_min', 'mrr', 'hit_rate', 'sampled_hit_rate', 'sampled_ndcg']) {
      if (want(m)) out[`${m}@${k}`] = acc[`${m}@${k}`]! / users;
    }
    if (want('precision_implicit')) out[`precision_implicit@${k}`] = acc[`hits_total@${k}`]! / acc[`denom_total@${k}`]!;
    if (want('coverage')) out[`coverage@${k}`] = covered[q]!.size / nItems;
  });
  if (want('auc')) out.auc = aucUsers ? aucSum / aucUsers : NaN;
  out.users = users;
  return out;
}
