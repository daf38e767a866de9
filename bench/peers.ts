// recsys against the Python libraries its users come from, on exactly the same split files: recsys writes its
// train/test splits as TSV (dense indices) to a temp dir, fits its model on them, then the peer
// (bench/peers/run_peers.py) fits on the same files and exports its predictions or each test user's top-50;
// recsys's evaluate() scores both, so the metric definitions are identical. recsys and peer runs alternate
// (r p r p ...; --runs, default 3) and times are medians.
//
//   npm run bench:peers [-- --dataset ml-100k,ml-latest-small --only als,svd --runs 3 --threads 0]
//
// The peers' Python: $RECSYS_PEERS_PYTHON, else bench/peers/.venv/bin/python, else python3 — it needs implicit,
// scikit-surprise, lightfm and scikit-learn (versions in bench/peers/requirements.txt). Without them the
// benchmark says so and skips. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed from the peers' environment
// (they make a current numpy pick a slower kernel), and every peer runs with OPENBLAS_NUM_THREADS=1 (see peerEnv).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, findDatasetDir, kFold, loadMovieLens, modelEntry, perUserSplit, type Dataset, type Recommender, type Scorer } from '../ts/index.js';
import type { PeerRow, PeersResult } from '../ts/report/results.js';
import { BENCH_DIR, describeInfo, fmt, listOption, load1, median, mergeRowsInto, parseOptions, RESULTS_DIR, runInfo, table, writeResult } from './common.js';
import { peersMarkdown, updateBenchmarksMd } from './markdown.js';

const { opts } = parseOptions();
const runs = Number(opts.get('runs') ?? 3);
const threads = Number(opts.get('threads') ?? 0);
const peerThreads = threads || cpus().length;
const only = listOption(opts.get('only'));
const datasets = listOption(opts.get('dataset')) ?? ['ml-100k'];
const RANKING_METRICS = ['precision', 'recall', 'ndcg', 'map', 'coverage'] as const;
const EXPORT_N = 50;

interface Pair {
  key: string;
  task: 'rating' | 'ranking';
  recsysLabel: string;
  make: () => Recommender;
  library: string;
  peerModel: string;
  /** Extra run_peers.py options (hyper-parameters matched to the recsys side). */
  peerArgs?: string[];
  note?: string;
}

/** Models come from the registry by name, so a family that is not built in fails its row, not the script. */
const model = (name: string, params: Record<string, unknown>): Recommender => modelEntry(name).create(params);
const t = { threads };
const bin = { binary: true, ...t };
const PAIRS: Pair[] = [
  {
    key: 'svd',
    task: 'rating',
    recsysLabel: 'BiasedMF',
    make: () => model('BiasedMF', t),
    library: 'surprise',
    peerModel: 'SVD',
    note: 'both at Surprise defaults (100 factors, 20 epochs, lr .005, reg .02); Surprise is single-threaded',
  },
  {
    key: 'svdpp',
    task: 'rating',
    recsysLabel: 'SVDpp',
    make: () => model('SVDpp', t),
    library: 'surprise',
    peerModel: 'SVDpp',
    note: 'Surprise defaults (20 factors, 20 epochs); both single-threaded SGD',
  },
  {
    key: 'knnbaseline',
    task: 'rating',
    recsysLabel: 'KNNBaseline',
    make: () => model('KNNBaseline', t),
    library: 'surprise',
    peerModel: 'KNNBaseline',
    note: 'pearson_baseline, user-based, k 40',
  },
  {
    key: 'knnbasic',
    task: 'rating',
    recsysLabel: 'KNNBasic',
    make: () => model('KNNBasic', t),
    library: 'surprise',
    peerModel: 'KNNBasic',
    note: 'msd, user-based, k 40',
  },
  { key: 'knnwithmeans', task: 'rating', recsysLabel: 'KNNWithMeans', make: () => model('KNNWithMeans', t), library: 'surprise', peerModel: 'KNNWithMeans' },
  { key: 'baselineonly', task: 'rating', recsysLabel: 'BaselineOnly', make: () => model('BaselineOnly', t), library: 'surprise', peerModel: 'BaselineOnly' },
  { key: 'nmf', task: 'rating', recsysLabel: 'NMF', make: () => model('NMF', t), library: 'surprise', peerModel: 'NMF' },
  { key: 'slopeone', task: 'rating', recsysLabel: 'SlopeOne', make: () => model('SlopeOne', t), library: 'surprise', peerModel: 'SlopeOne' },
  {
    key: 'als',
    task: 'ranking',
    recsysLabel: 'ImplicitALS 64f',
    make: () => model('ImplicitALS', { factors: 64, reg: 0.01, alpha: 0, iterations: 15, ...bin }),
    library: 'implicit',
    peerModel: 'ALS',
    peerArgs: ['--factors', '64', '--reg', '0.01', '--alpha', '1', '--epochs', '15'],
    note: "binary data; implicit's alpha 1 (c = alpha r) is recsys alpha 0 (c = 1 + alpha r); 15 sweeps, CG 3 steps on both",
  },
  {
    key: 'bpr',
    task: 'ranking',
    recsysLabel: 'BPR 64f 100 ep',
    make: () => model('BPR', { factors: 64, lr: 0.01, reg: 0.01, epochs: 100, ...t }),
    library: 'implicit',
    peerModel: 'BPR',
    peerArgs: ['--factors', '64', '--lr', '0.01', '--reg', '0.01', '--epochs', '100'],
    note: "implicit's factors=65 = 64 factors + item bias, as recsys",
  },
  {
    key: 'cosine',
    task: 'ranking',
    recsysLabel: 'ItemKNN cosine',
    make: () => model('ItemKNN', { similarity: 'cosine', k: 20, ...bin }),
    library: 'implicit',
    peerModel: 'CosineRecommender',
    peerArgs: ['--k', '20'],
  },
  {
    key: 'tfidf',
    task: 'ranking',
    recsysLabel: 'ItemKNN tfidf',
    make: () => model('ItemKNN', { similarity: 'tfidf', k: 20, ...bin }),
    library: 'implicit',
    peerModel: 'TFIDFRecommender',
    peerArgs: ['--k', '20'],
  },
  {
    key: 'bm25',
    task: 'ranking',
    recsysLabel: 'ItemKNN bm25',
    make: () => model('ItemKNN', { similarity: 'bm25', k: 20, ...bin }),
    library: 'implicit',
    peerModel: 'BM25Recommender',
    peerArgs: ['--k', '20'],
  },
  {
    key: 'lightfm-bpr',
    task: 'ranking',
    recsysLabel: 'BPR 64f 30 ep lr .05',
    make: () => model('BPR', { factors: 64, lr: 0.05, reg: 0.01, epochs: 30, ...t }),
    library: 'lightfm',
    peerModel: 'BPR',
    peerArgs: ['--factors', '64', '--lr', '0.05', '--epochs', '30'],
    note: 'LightFM (no features) with 64 components, 30 epochs, lr .05 (adagrad)',
  },
  {
    key: 'lightfm-warp',
    task: 'ranking',
    recsysLabel: 'BPR 64f 30 ep lr .05',
    make: () => model('BPR', { factors: 64, lr: 0.05, reg: 0.01, epochs: 30, ...t }),
    library: 'lightfm',
    peerModel: 'WARP',
    peerArgs: ['--factors', '64', '--lr', '0.05', '--epochs', '30'],
    note: 'recsys has no WARP loss: its BPR with the same settings stands in',
  },
  {
    key: 'truncatedsvd',
    task: 'ranking',
    recsysLabel: 'PureSVD 32f',
    make: () => model('PureSVD', { factors: 32, powerIterations: 4, ...bin }),
    library: 'sklearn',
    peerModel: 'TruncatedSVD',
    peerArgs: ['--factors', '32', '--epochs', '4'],
    note: 'randomized SVD, rank 32, 4 power iterations, oversampling 10 on both; scores r_u V V^T',
  },
  {
    key: 'svds',
    task: 'ranking',
    recsysLabel: 'PureSVD 32f',
    make: () => model('PureSVD', { factors: 32, powerIterations: 4, ...bin }),
    library: 'scipy',
    peerModel: 'svds',
    peerArgs: ['--factors', '32'],
    note: 'scipy.sparse.linalg.svds (ARPACK, exact to tolerance) vs randomized',
  },
];

// ---- the peers' Python -----------------------------------------------------------------------------------------

function findPython(): { python?: string; why: string } {
  const candidates = [process.env.RECSYS_PEERS_PYTHON, join(BENCH_DIR, 'peers', '.venv', 'bin', 'python'), 'python3'].filter((x): x is string => !!x);
  const problems: string[] = [];
  for (const py of candidates) {
    if (py.includes('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import implicit, surprise, lightfm, sklearn, scipy'], { encoding: 'utf8', env: peerEnv() });
    if (r.status === 0) return { python: py, why: '' };
    problems.push(`${py}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
  }
  return { why: problems.join('; ') };
}

function peerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  // Single-threaded BLAS, as recsys runs it inside its own parallel loops and as implicit recommends. Measured on
  // the shared 2-core machine: OpenBLAS's own threads made scikit-learn's TruncatedSVD and scipy's svds on ML-100K
  // 5-50x slower (0.17-2.5 s instead of 0.03-0.05 s) whenever other work was running.
  env.OPENBLAS_NUM_THREADS = '1';
  return env;
}

// ---- split files -----------------------------------------------------------------------------------------------

function writeSplit(path: string, ds: Dataset, binary: boolean): void {
  const { indptr, indices, data } = ds.csr;
  const lines: string[] = [];
  for (let u = 0; u < ds.nUsers; u++) for (let p = indptr[u]!; p < indptr[u + 1]!; p++) lines.push(`${u}\t${indices[p]}\t${binary || !data ? 1 : data[p]}`);
  writeFileSync(path, lines.join('\n') + '\n');
}

/** A Scorer over a peer's exported predictions (rating) or top-N lists (ranking: rank r scores N - r, the rest NaN). */
function peerScorer(train: Dataset, test: Dataset, task: 'rating' | 'ranking', outFile: string): Scorer {
  const text = readFileSync(outFile, 'utf8').trim();
  const nItems = train.nItems;
  if (task === 'rating') {
    const preds = Float32Array.from(text.split('\n'), Number);
    const key = new Map<number, number>();
    let q = 0;
    for (let u = 0; u < test.nUsers; u++) for (const i of test.userItems(u)) key.set(u * nItems + i, q++);
    if (q !== preds.length) throw new Error(`peer returned ${preds.length} predictions for ${q} test pairs`);
    return {
      trainData: train,
      scoreUsersDense: () => {
        throw new Error('rating peers have no ranking');
      },
      predictDense: (users, items) => Float32Array.from(users, (u, p) => preds[key.get(u * nItems + items[p]!)!]!),
    };
  }
  const lists = new Map<number, Int32Array>();
  for (const line of text.split('\n')) {
    const [u, items] = line.split('\t');
    lists.set(Number(u), Int32Array.from(items ? items.split(',') : [], Number));
  }
  return {
    trainData: train,
    scoreUsersDense: (users) => {
      const out = new Float32Array(users.length * nItems).fill(NaN);
      users.forEach((u, r) => {
        const l = lists.get(u);
        if (l) l.forEach((i, rank) => (out[r * nItems + i] = l.length - rank));
      });
      return out;
    },
    predictDense: (users) => new Float32Array(users.length).fill(NaN),
  };
}

// ---- runs ------------------------------------------------------------------------------------------------------

interface Split {
  train: Dataset;
  test: Dataset;
  trainFile: string;
  testFile: string;
}

function metricsOf(m: Scorer, s: Split, task: 'rating' | 'ranking'): Record<string, number> {
  if (task === 'rating') return evaluate(m, s.test, { train: s.train, metrics: ['rmse', 'mae'], threads });
  const r = evaluate(m, s.test, { train: s.train, k: 10, metrics: [...RANKING_METRICS], threads });
  const out: Record<string, number> = {};
  for (const name of RANKING_METRICS) out[`${name}@10`] = r[`${name}@10`]!;
  return out;
}

function runRecsys(p: Pair, s: Split): { fit: number; predict: number; metrics: Record<string, number> } {
  const m = p.make();
  const t0 = performance.now();
  m.fit(s.train);
  const t1 = performance.now();
  const metrics = metricsOf(m, s, p.task);
  const t2 = performance.now();
  return { fit: (t1 - t0) / 1000, predict: (t2 - t1) / 1000, metrics };
}

function runPeer(python: string, p: Pair, s: Split, dir: string): { fit: number; predict: number; metrics: Record<string, number> } | { error: string } {
  const out = join(dir, `${p.key}.out`);
  const args = [
    join(BENCH_DIR, 'peers', 'run_peers.py'),
    '--task',
    p.task,
    '--model',
    `${p.library}.${p.peerModel}`,
    '--train',
    s.trainFile,
    '--test',
    s.testFile,
    '--out',
    out,
    '--items',
    String(s.train.nItems),
    '--n',
    String(EXPORT_N),
    '--threads',
    String(peerThreads),
    ...(p.peerArgs ?? []),
  ];
  let line: string;
  try {
    line = execFileSync(python, args, { encoding: 'utf8', env: peerEnv(), stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 })
      .trim()
      .split('\n')
      .pop()!;
  } catch (err) {
    return { error: ((err as { stderr?: string }).stderr || String(err)).trim().split('\n').slice(-2).join(' ') };
  }
  const r = JSON.parse(line) as { fit_seconds?: number; predict_seconds?: number; error?: string };
  if (r.error) return { error: r.error };
  return { fit: r.fit_seconds!, predict: r.predict_seconds!, metrics: metricsOf(peerScorer(s.train, s.test, p.task, out), s, p.task) };
}

// ---- main ------------------------------------------------------------------------------------------------------

const { python, why } = findPython();
if (!python) {
  console.log(`bench:peers: skipped — no Python with implicit, scikit-surprise, lightfm and scikit-learn (${why}).`);
  console.log('Install them with: python3 -m venv bench/peers/.venv && bench/peers/.venv/bin/pip install -r bench/peers/requirements.txt');
  console.log('(lightfm 1.17 builds only without build isolation: see the comment in bench/peers/requirements.txt), or set RECSYS_PEERS_PYTHON.');
  process.exit(0);
}
const peerVersions = JSON.parse(
  execFileSync(python, [join(BENCH_DIR, 'peers', 'run_peers.py'), '--versions'], { encoding: 'utf8', env: peerEnv() }).trim(),
) as Record<string, string>;
const ri = runInfo(threads, [
  `recsys and peer runs alternate (--runs, ${runs} in the last run; rows of filtered runs are merged); times are medians (wall seconds), metrics from recsys's evaluate() on both sides`,
  'rating: fold 1 of a 5-fold random KFold (seed 42); ranking: per-user 80/20 holdout (seed 42), binary interactions, training items excluded, peers export their top 50',
  `recsys threads: ${threads || 'all'}; peers get ${peerThreads} threads where they take a count (Surprise is single-threaded)`,
]);
console.log(`peers benchmark (${python}); ${describeInfo(ri)}`);
console.log(
  `peers: ${Object.entries(peerVersions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
const result: PeersResult = { kind: 'peers', info: ri, peerVersions, rows: [] };
const resultsPath = join(RESULTS_DIR, 'peers.json');
const mergeable = !opts.get('out') && (!!only || !!opts.get('dataset'));
const previous = mergeable && existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as PeersResult).rows : [];
/**
 * Writes the result file (and BENCHMARKS.md) after every pair, so an interrupted run keeps what it measured. A
 * filtered run (--only / --dataset) updates its rows of bench/results/peers.json and keeps the others.
 */
function save(): string {
  const key = (r: PeerRow) => `${r.dataset}|${r.recsys.model}|${r.peer.library}|${r.peer.model}`;
  const out: PeersResult = { ...result, rows: mergeable ? mergeRowsInto(previous, result.rows, key) : result.rows };
  const path = writeResult('peers', out, opts.get('out'));
  if (!opts.get('out')) updateBenchmarksMd('peers', peersMarkdown(out));
  return path;
}
const dir = mkdtempSync(join(tmpdir(), 'recsys-peers-'));
try {
  for (const d of datasets) {
    const where = findDatasetDir(d);
    if (!where.dir) {
      console.log(`\n${d}: not found (looked in ${where.searched.join(', ')}); skipped`);
      continue;
    }
    const ds = await loadMovieLens(where.dir, { itemInfo: false });
    const rating = kFold(ds, { folds: 5, seed: 42 })[0]!;
    const ranking = perUserSplit(ds, { testFraction: 0.2, seed: 42 });
    const splits: Record<'rating' | 'ranking', Split> = {
      rating: { ...rating, trainFile: join(dir, `${d}-rating-train.tsv`), testFile: join(dir, `${d}-rating-test.tsv`) },
      ranking: { ...ranking, trainFile: join(dir, `${d}-ranking-train.tsv`), testFile: join(dir, `${d}-ranking-test.tsv`) },
    };
    for (const [task, s] of Object.entries(splits)) {
      writeSplit(s.trainFile, s.train, task === 'ranking');
      writeSplit(s.testFile, s.test, task === 'ranking');
    }
    console.log(`\n${d}: rating split ${rating.train.nnz} / ${rating.test.nnz}, ranking split ${ranking.train.nnz} / ${ranking.test.nnz} (files in ${dir})`);
    for (const p of PAIRS.filter((x) => !only || only.includes(x.key))) {
      const s = splits[p.task];
      try {
        p.make();
      } catch (err) {
        console.log(`  ${p.recsysLabel} vs ${p.library} ${p.peerModel}: skipped (${(err as Error).message})`);
        continue;
      }
      const load = load1();
      const rec: ReturnType<typeof runRecsys>[] = [];
      const peer: ReturnType<typeof runPeer>[] = [];
      for (let r = 0; r < runs; r++) {
        rec.push(runRecsys(p, s));
        const pr = runPeer(python, p, s, dir);
        peer.push(pr);
        if ('error' in pr) break;
      }
      const failed = peer.find((x): x is { error: string } => 'error' in x);
      const ok = peer.filter((x): x is Exclude<typeof x, { error: string }> => !('error' in x));
      const row: PeerRow = {
        dataset: d,
        task: p.task,
        recsys: {
          model: p.recsysLabel,
          fitSeconds: median(rec.map((x) => x.fit)),
          predictSeconds: median(rec.map((x) => x.predict)),
          metrics: rec[0]!.metrics,
        },
        peer: failed
          ? { library: p.library, model: p.peerModel, fitSeconds: NaN, predictSeconds: NaN, metrics: {}, error: failed.error }
          : {
              library: p.library,
              model: p.peerModel,
              fitSeconds: median(ok.map((x) => x.fit)),
              predictSeconds: median(ok.map((x) => x.predict)),
              metrics: ok[0]!.metrics,
            },
        note: p.note,
        load,
      };
      result.rows.push(row);
      save();
      const metricText = Object.keys(row.recsys.metrics)
        .map((k) => `${k} ${fmt(row.recsys.metrics[k], 4)} vs ${fmt(row.peer.metrics[k], 4)}`)
        .join(', ');
      console.log(
        failed
          ? `  ${p.recsysLabel} vs ${p.library} ${p.peerModel}: peer failed: ${failed.error}`
          : `  ${p.recsysLabel.padEnd(22)} vs ${`${p.library} ${p.peerModel}`.padEnd(28)} fit ${fmt(row.recsys.fitSeconds)} / ${fmt(row.peer.fitSeconds)} s = ${(row.recsys.fitSeconds / row.peer.fitSeconds).toFixed(2)}; predict ${fmt(row.recsys.predictSeconds)} / ${fmt(row.peer.predictSeconds)} s; ${metricText}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (result.rows.length === 0) {
  console.log('\nnothing measured (no dataset found or no pair selected): results and BENCHMARKS.md left as they were');
  process.exit(0);
}
console.log('\nratios (time recsys / peer; metric difference recsys - peer):');
console.log(
  table(
    ['dataset', 'recsys', 'peer', 'fit time ratio', 'predict time ratio', 'metric differences'],
    result.rows.map((r) => [
      r.dataset,
      r.recsys.model,
      `${r.peer.library} ${r.peer.model}`,
      r.peer.error ? 'failed' : (r.recsys.fitSeconds / r.peer.fitSeconds).toFixed(3),
      r.peer.error ? '' : (r.recsys.predictSeconds / r.peer.predictSeconds).toFixed(3),
      Object.keys(r.recsys.metrics)
        .map(
          (k) => `${k} ${r.recsys.metrics[k]! - (r.peer.metrics[k] ?? NaN) >= 0 ? '+' : ''}${(r.recsys.metrics[k]! - (r.peer.metrics[k] ?? NaN)).toFixed(4)}`,
        )
        .join(' '),
    ]),
  ),
);
console.log(`\nwrote ${save()}${opts.get('out') ? '' : ' and BENCHMARKS.md'}`);
