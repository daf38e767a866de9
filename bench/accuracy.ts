// Accuracy and speed of every registered model on every MovieLens dataset found locally, under the standard
// protocols:
//   rating models   5-fold random KFold (seed 42): RMSE, MAE (means over folds);
//   ranking models  per-user 80/20 holdout (seed 42, all interactions relevant, training items excluded):
//                   P@K, R@K, NDCG@K, MAP@K, coverage@K for K in 1, 5, 10, 20, 50;
//                   leave-last-one-out (latest interaction per user by timestamp): HR@10 and NDCG@10 of the held
//                   out item against 99 sampled negatives (He et al. 2017).
// Every (dataset, model) runs in its own child process, so its peak RSS is its own; fit and predict times are
// wall seconds (fit: mean per fold; predict: predicting every test pair / ranking every test user).
//
//   npm run bench:accuracy [-- --dataset ml-100k,ml-1m --model BPR,EASE --threads 0 --out bench/results/accuracy.json]
//
// Models use the registry's demo settings (ML-100K-tuned; e.g. implicit models read ratings as binary), except
// LightGCN, whose demo only shortens its fit: it runs its defaults here.
// Results: bench/results/accuracy.json and the accuracy section of BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  crossValidate,
  evaluate,
  findDatasetDir,
  kFold,
  leaveLastK,
  loadMovieLens,
  modelEntry,
  models,
  perUserSplit,
  type Dataset,
  type FitProgress,
  type Fittable,
  type ModelEntry,
  type Recommender,
} from '../ts/index.js';
import type { AccuracyResult, AccuracyRow } from '../ts/report/results.js';
import { describeInfo, fmt, listOption, load1, mergeRows, parseOptions, peakRssMB, RESULTS_DIR, runInfo, writeResult } from './common.js';
import { accuracyMarkdown, updateBenchmarksMd } from './markdown.js';

export const DATASETS = ['ml-100k', 'ml-latest-small', 'ml-1m'];
export const CURVE_KS = [1, 5, 10, 20, 50];
const RANKING_METRICS = ['precision', 'recall', 'ndcg', 'map', 'coverage'] as const;

const { opts } = parseOptions();
const threads = Number(opts.get('threads') ?? 0);

// Models whose demo entry only shortens the fit (fewer epochs): measured here with their defaults.
const FULL_FIT = new Set(['LightGCN']);

/** The parameters a model runs with here: the registry's demo settings, or its defaults. */
export function benchParams(e: ModelEntry, threads: number): Record<string, unknown> {
  if (FULL_FIT.has(e.name)) return { threads };
  return { ...(e.demo && typeof e.demo === 'object' ? e.demo : {}), threads };
}

// ---- child: one model on one dataset, every protocol it has ---------------------------------------------------

async function child(datasetName: string, modelName: string): Promise<AccuracyRow[]> {
  const e = modelEntry(modelName);
  const params = benchParams(e, threads);
  const ds = await loadMovieLens(findDatasetDir(datasetName).dir!, { itemInfo: false });
  const rows: AccuracyRow[] = [];
  const base = { dataset: datasetName, model: e.name, params };
  let loss: number[] | undefined;
  const lossOf = (m: Recommender, train: Dataset): number[] | undefined => {
    const l: number[] = [];
    const onProgress = (p: FitProgress) => {
      if (p.loss !== undefined && Number.isFinite(p.loss)) l.push(p.loss);
    };
    m.fit(train, { onProgress });
    return l.length > 0 ? l : undefined;
  };
  if (e.tasks.includes('rating')) {
    const folds = kFold(ds, { folds: 5, seed: 42 });
    // The first fold's fit records the loss curve (fits report it through onProgress where it costs nothing).
    const makeModel = (fold: number): Fittable => {
      const m = e.create(params);
      if (fold > 0) return m;
      return {
        get trainData() {
          return m.trainData;
        },
        fit: (t: Dataset) => (loss = lossOf(m, t)),
        scoreUsersDense: (u: Int32Array) => m.scoreUsersDense(u),
        predictDense: (u: Int32Array, i: Int32Array) => m.predictDense(u, i),
      };
    };
    const cv = crossValidate(makeModel, folds, { metrics: ['rmse', 'mae'], threads });
    rows.push({
      ...base,
      protocol: 'kfold5',
      metrics: { rmse: cv.mean.rmse!, mae: cv.mean.mae!, rmse_std: cv.std.rmse! },
      fitSeconds: cv.mean.fit_time!,
      predictSeconds: cv.mean.test_time!,
      peakRssMB: 0,
      loss,
    });
  }
  if (e.tasks.includes('ranking')) {
    const { train, test } = perUserSplit(ds, { testFraction: 0.2, seed: 42 });
    const m = e.create(params);
    const t0 = performance.now();
    const l = lossOf(m, train);
    const t1 = performance.now();
    const r = evaluate(m, test, { k: CURVE_KS, metrics: [...RANKING_METRICS], threads });
    const t2 = performance.now();
    const curves: Record<string, [number, number][]> = {};
    for (const name of RANKING_METRICS) curves[name] = CURVE_KS.map((k) => [k, r[`${name}@${k}`]!]);
    const metrics: Record<string, number> = { users: r.users! };
    for (const name of RANKING_METRICS) metrics[`${name}@10`] = r[`${name}@10`]!;
    // Models that compute their loss only on request (ImplicitALS, BPR: it costs time) get an extra, untimed fit.
    let curve = loss ?? l;
    if (!curve) {
      let withLoss: Recommender | undefined;
      try {
        withLoss = e.create({ ...params, computeLoss: true });
      } catch {
        withLoss = undefined; // the model has no such option
      }
      if (withLoss) curve = lossOf(withLoss, train);
    }
    rows.push({ ...base, protocol: 'peruser80', metrics, curves, fitSeconds: (t1 - t0) / 1000, predictSeconds: (t2 - t1) / 1000, peakRssMB: 0, loss: curve });

    const loo = leaveLastK(ds, { k: 1 });
    const m2 = e.create(params);
    const t3 = performance.now();
    m2.fit(loo.train);
    const t4 = performance.now();
    const r2 = evaluate(m2, loo.test, { k: 10, metrics: ['sampled_hit_rate', 'sampled_ndcg'], negatives: 99, seed: 42, threads });
    const t5 = performance.now();
    rows.push({
      ...base,
      protocol: 'loo',
      metrics: { 'hr@10': r2['sampled_hit_rate@10']!, 'ndcg@10': r2['sampled_ndcg@10']!, users: r2.users! },
      fitSeconds: (t4 - t3) / 1000,
      predictSeconds: (t5 - t4) / 1000,
      peakRssMB: 0,
    });
  }
  const peak = peakRssMB();
  for (const row of rows) row.peakRssMB = peak;
  return rows;
}

// ---- parent -------------------------------------------------------------------------------------------------

function runChild(dataset: string, model: string): AccuracyRow[] {
  const self = fileURLToPath(import.meta.url);
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', `${dataset}:${model}`, `--threads=${threads}`], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').pop()!) as AccuracyRow[];
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = (e.stderr || e.message).trim().split('\n').slice(-3).join(' ');
    return [{ dataset, model, protocol: 'peruser80', metrics: {}, fitSeconds: NaN, predictSeconds: NaN, peakRssMB: NaN, error: why }];
  }
}

async function parent(): Promise<void> {
  const wantData = listOption(opts.get('dataset'));
  const wantModels = listOption(opts.get('model'));
  const datasets = DATASETS.filter((d) => !wantData || wantData.includes(d));
  // The next-item models have their own protocol and benchmark (bench/sequential.ts); here only when named.
  const SEQUENTIAL = ['ItemTransitions', 'SASRec'];
  const chosen = models.filter((m) => (wantModels ? wantModels.includes(m.name.toLowerCase()) : !SEQUENTIAL.includes(m.name)));
  if (chosen.length === 0) throw new Error(`no model matches --model ${opts.get('model')}; models: ${models.map((m) => m.name).join(', ')}`);
  const ri = runInfo(threads, [
    'rating: 5-fold random KFold, seed 42; ranking: per-user 80/20 holdout, seed 42, every interaction relevant; leave-last-one-out: latest interaction per user, 99 sampled negatives',
    'models with the registry demo settings (implicit-feedback models read ratings as binary)',
  ]);
  console.log(`accuracy benchmark, ${threads || 'all'} threads; ${describeInfo(ri)}`);
  const result: AccuracyResult = { kind: 'accuracy', info: ri, rows: [] };
  const t0 = performance.now();
  for (const d of datasets) {
    const where = findDatasetDir(d);
    if (!where.dir) {
      console.log(`\n${d}: not found (looked in ${where.searched.join(', ')}); skipped`);
      continue;
    }
    console.log(`\n${d}`);
    for (const m of chosen) {
      const load = load1();
      const rows = runChild(d, m.name);
      for (const r of rows) r.load = load;
      result.rows.push(...rows);
      for (const r of rows) {
        if (r.error) console.log(`  ${m.name.padEnd(14)} FAILED: ${r.error}`);
        else
          console.log(
            `  ${m.name.padEnd(14)} ${r.protocol.padEnd(9)} ${Object.entries(r.metrics)
              .filter(([k]) => k !== 'users' && k !== 'rmse_std')
              .map(([k, v]) => `${k} ${fmt(v, 4)}`)
              .join('  ')}  fit ${fmt(r.fitSeconds)} s  predict ${fmt(r.predictSeconds)} s  peak ${fmt(r.peakRssMB, 0)} MB`,
          );
      }
    }
  }
  if (result.rows.length === 0) {
    console.log('\nno dataset found: nothing measured, results and BENCHMARKS.md left as they were');
    return;
  }
  // A filtered run (--dataset / --model) updates its rows of bench/results/accuracy.json and keeps the others.
  if (!opts.get('out') && (wantData || wantModels))
    result.rows = mergeRows(join(RESULTS_DIR, 'accuracy.json'), result.rows, (r) => `${r.dataset}|${r.model}|${r.protocol}`);
  const path = writeResult('accuracy', result, opts.get('out'));
  console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s; wrote ${path}; load average after: ${result.info.loadavgAfter?.join(' ')}`);
  if (!opts.get('out')) console.log(`updated ${updateBenchmarksMd('accuracy', accuracyMarkdown(result))}`);
}

const childArg = opts.get('child');
if (childArg) {
  const [d, m] = childArg.split(':');
  console.log(JSON.stringify(await child(d!, m!)));
} else {
  await parent();
}
