// Rating-prediction benchmark (issue #3): RMSE / MAE and fit / test times of the rating models, 5-fold, on
// ML-100K (Surprise-style random KFold over ratings, and the file folds u1..u5), ml-latest-small and the ml-1m
// partial ratings (random KFold). RMSE / MAE are means over folds (fits are seeded, so every run gives the same
// figures); times are medians over folds x runs, per fold, with the thread count printed. Surprise's figures are
// Surprise 1.1.4 on this machine with 2 vCPUs, as given in issue #3 (ML-100K, random KFold).
//
//   npm run bench:rating [-- --runs 3 --threads 0 --datasets ml-100k,ml-latest-small,ml-1m --models SVD,KNNBaseline]
//
// Datasets are looked up in $RECSYS_DATA_DIR and ../shared/datasets; a missing one is skipped (saying so).
import {
  BaselineOnly,
  BiasedMF,
  crossValidate,
  ExplicitALS,
  findDatasetDir,
  info,
  kFold,
  KNNBaseline,
  KNNBasic,
  KNNWithMeans,
  loadMovieLens,
  loadPredefinedFolds,
  NMF,
  SlopeOne,
  SVDpp,
  type Dataset,
  type Recommender,
} from '../ts/index.js';

interface Row {
  label: string;
  params: string;
  make: (threads: number) => Recommender;
  /** Surprise 1.1.4 on ML-100K random KFold: RMSE, MAE, fit s per fold, test s per fold. */
  surprise?: [number, number, number, number?];
  /** Threads the fit really uses when not the requested count (SVD++'s SGD is sequential). */
  threadsNote?: string;
  /** Issue #3 target on ML-100K (random KFold and u1..u5): max RMSE, max fit s, max fit + test s. */
  target?: { rmse?: number; fit?: number; fitTest?: number };
}

const TUNED_MF = { factors: 100, epochs: 60, lr: 0.007, reg: 0.08, initStd: 0.02 };
const TUNED_PP = { factors: 200, epochs: 80, lr: 0.005, reg: 0.08, lrY: 0.002, initStd: 0.01 };
const ROWS: Row[] = [
  {
    label: 'BiasedMF (SVD)',
    params: 'defaults: 100 f, 20 ep, lr .005, reg .02',
    make: (threads) => new BiasedMF({ threads }),
    surprise: [0.9344, 0.7367, 0.96],
    target: { rmse: 0.934, fit: 0.096 },
  },
  {
    label: 'BiasedMF (SVD)',
    params: 'defaults, one thread',
    make: () => new BiasedMF({ threads: 1 }),
    threadsNote: '1',
    surprise: [0.9344, 0.7367, 0.96],
    target: { rmse: 0.934, fit: 0.096 },
  },
  {
    label: 'SVDpp',
    params: 'defaults: 20 f, 20 ep, lr .007, reg .02',
    make: (threads) => new SVDpp({ threads }),
    threadsNote: '1 (SGD)',
    surprise: [0.9187, 0.7206, 15.0],
    target: { rmse: 0.915, fit: 0.75 },
  },
  {
    label: 'KNNBaseline',
    params: 'defaults: pearson_baseline, user, k 40',
    make: (threads) => new KNNBaseline({ threads }),
    surprise: [0.9307, 0.7332, 0.39, 2.1],
    target: { rmse: 0.931, fitTest: 0.25 },
  },
  { label: 'KNNBaseline', params: 'pearson_baseline, item-based', make: (threads) => new KNNBaseline({ threads, userBased: false }) },
  {
    label: 'KNNBaseline',
    params: "msd, user (Surprise's default sim)",
    make: (threads) => new KNNBaseline({ threads, similarity: 'msd' }),
    surprise: [0.9307, 0.7332, 0.39, 2.1],
  },
  { label: 'KNNBasic', params: 'defaults: msd, user, k 40', make: (threads) => new KNNBasic({ threads }) },
  { label: 'KNNWithMeans', params: 'defaults: msd, user, k 40', make: (threads) => new KNNWithMeans({ threads }) },
  {
    label: 'BaselineOnly',
    params: 'defaults: ALS, reg_u 15, reg_i 10',
    make: (threads) => new BaselineOnly({ threads }),
    surprise: [0.944, 0.7484, 0.16],
    target: { rmse: 0.944 },
  },
  { label: 'NMF', params: 'defaults: 15 f, 50 ep, reg .06', make: (threads) => new NMF({ threads }), surprise: [0.9634, 0.758, 2.09], target: { rmse: 0.963 } },
  { label: 'SlopeOne', params: 'defaults (unweighted)', make: (threads) => new SlopeOne({ threads }) },
  { label: 'SlopeOne', params: 'weighted', make: (threads) => new SlopeOne({ threads, weighted: true }) },
  { label: 'ExplicitALS', params: 'defaults: 50 f, 15 sweeps, reg .1', make: (threads) => new ExplicitALS({ threads }) },
  { label: 'BiasedMF tuned', params: '100 f, 60 ep, lr .007, reg .08, initStd .02', make: (threads) => new BiasedMF({ threads, ...TUNED_MF }) },
  {
    label: 'SVDpp tuned',
    params: '200 f, 80 ep, lr .005, reg .08, lrY .002, initStd .01',
    make: (threads) => new SVDpp({ threads, ...TUNED_PP }),
    threadsNote: '1 (SGD)',
    target: { rmse: 0.905 },
  },
];

function arg(name: string, dflt: string): string {
  const j = process.argv.indexOf(`--${name}`);
  return j >= 0 && process.argv[j + 1] !== undefined ? process.argv[j + 1]! : dflt;
}
const runs = Number(arg('runs', '3'));
const threads = Number(arg('threads', '0'));
const datasets = arg('datasets', 'ml-100k,ml-latest-small,ml-1m').split(',');
const only = arg('models', '')
  .split(',')
  .filter(Boolean)
  .map((s) => s.toLowerCase());
const rows = only.length ? ROWS.filter((r) => only.some((o) => r.label.toLowerCase().startsWith(o))) : ROWS;
const hw = info().defaultThreads;
const usedThreads = threads === 0 ? hw : threads;

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f4 = (x: number) => x.toFixed(4);
const sec = (x: number) => (x < 0.1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1));

interface Folds {
  name: string;
  folds: { train: Dataset; test: Dataset }[];
  /** Targets and Surprise's figures apply (ML-100K). */
  ml100k: boolean;
}

async function foldSets(): Promise<Folds[]> {
  const out: Folds[] = [];
  for (const name of datasets) {
    const loc = findDatasetDir(name);
    if (!loc.dir) {
      console.log(`(skipping ${name}: not found; searched ${loc.searched.join(', ')})`);
      continue;
    }
    const ds = await loadMovieLens(loc.dir, { itemInfo: false });
    const s = ds.stats();
    const about = `${s.users} users, ${s.items} items, ${s.interactions} ratings`;
    out.push({ name: `${name} (${about}), random 5-fold KFold, seed 1`, folds: kFold(ds, { folds: 5, seed: 1 }), ml100k: name === 'ml-100k' });
    if (name === 'ml-100k') {
      const u = await loadPredefinedFolds(loc.dir, { itemInfo: false });
      out.push({ name: `${name}, file folds u1..u5`, folds: u, ml100k: true });
    }
  }
  return out;
}

function runRow(row: Row, set: Folds) {
  const fit: number[] = [];
  const test: number[] = [];
  let rmse = 0;
  let mae = 0;
  for (let r = 0; r < runs; r++) {
    const res = crossValidate(() => row.make(threads), set.folds, { metrics: ['rmse', 'mae'], threads });
    for (const f of res.folds) {
      fit.push(f.fit_time!);
      test.push(f.test_time!);
    }
    rmse = res.mean.rmse!;
    mae = res.mean.mae!;
  }
  return { rmse, mae, fit: median(fit), test: median(test) };
}

function verdict(row: Row, r: { rmse: number; fit: number; test: number }): string {
  const t = row.target;
  if (!t) return '';
  const parts: string[] = [];
  let ok = true;
  if (t.rmse !== undefined) {
    parts.push(`RMSE ≤ ${t.rmse}`);
    ok &&= r.rmse <= t.rmse;
  }
  if (t.fit !== undefined) {
    parts.push(`fit ≤ ${t.fit} s`);
    ok &&= r.fit <= t.fit;
  }
  if (t.fitTest !== undefined) {
    parts.push(`fit+test ≤ ${t.fitTest} s`);
    ok &&= r.fit + r.test <= t.fitTest;
  }
  return `${parts.join(', ')}: ${ok ? 'met' : 'MISSED'}`;
}

const i = info();
console.log(
  `recsys ${i.version} rating benchmark: BLAS ${i.blas}, ${hw} hardware threads, models fitted with ${usedThreads} thread(s), ${runs} run(s), Node ${process.version}`,
);
console.log('RMSE/MAE: mean over the 5 folds. fit/test: median seconds per fold over folds x runs. Surprise: 1.1.4, 2 vCPUs (issue #3).');
for (const set of await foldSets()) {
  console.log(`\n### ${set.name}\n`);
  const head = ['model', 'params', 'RMSE', 'MAE', 'fit s', 'test s', 'threads'];
  if (set.ml100k) head.push('Surprise RMSE / MAE', 'Surprise fit (+test) s', 'target');
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const row of rows) {
    const r = runRow(row, set);
    const cells = [row.label, row.params, f4(r.rmse), f4(r.mae), sec(r.fit), sec(r.test), row.threadsNote ?? String(usedThreads)];
    if (set.ml100k) {
      const s = row.surprise;
      cells.push(s ? `${f4(s[0])} / ${f4(s[1])}` : '', s ? `${s[2]}${s[3] !== undefined ? ` + ${s[3]}` : ''}` : '', verdict(row, r));
    }
    console.log(`| ${cells.join(' | ')} |`);
  }
}
