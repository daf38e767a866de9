// Next-item recommendation on the ML-1M part (users 1-2999, timestamps) under SASRec's protocol (issue 14 part 2):
// each user's events in time order, the last held out for test, the second-to-last for validation; HR@10 and
// NDCG@10 over the full catalogue (history excluded) and against 100 sampled negatives (seeded).
// Non-sequential models (EASE, ImplicitALS) and ItemTransitions have their settings chosen on the validation item
// (fit on train, score the second-to-last item); every model is then fitted on train + validation and scored on
// the test item. SASRec runs the configuration given (no tuning: one fit is minutes on wasm).
// Targets: SASRec sampled HR@10 >= 0.80 and NDCG@10 >= 0.57 (paper on full ML-1M: 0.8245 / 0.5905), full NDCG@10
// above the best non-sequential model, fit <= 10 min on wasm.
// Usage: npm run bench:sequential [-- --only transitions,ease,als,sasrec] [--sasrec '{"maxLength":50,"epochs":20}']
//        [--threads 2] [--seed 42]
import { cpus, loadavg } from 'node:os';
import {
  EASE,
  ImplicitALS,
  ItemTransitions,
  SASRec,
  evaluateSequential,
  findDatasetDir,
  initDeepBackend,
  loadMovieLens,
  sequentialSplit,
  type HeldOutNext,
  type Recommender,
  type SASRecParams,
  type SequenceScorer,
  type SequentialResult,
} from '../ts/index.js';

const args = process.argv.slice(2);
const argOf = (name: string) => {
  const j = args.indexOf(`--${name}`);
  return j >= 0 ? args[j + 1] : undefined;
};
const only = new Set((argOf('only') ?? 'transitions,ease,als,sasrec').split(','));
const threads = Number(argOf('threads') ?? 2);
const seed = Number(argOf('seed') ?? 42);
/** The configuration measured by default: the paper's network at maxLength 50 and as many epochs as fit 10 min. */
const SASREC: SASRecParams = {
  maxLength: 50,
  hidden: 50,
  blocks: 2,
  dropout: 0.2,
  batchSize: 128,
  lr: 0.001,
  epochs: 30,
  seed,
  ...JSON.parse(argOf('sasrec') ?? '{}'),
};

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const loc = findDatasetDir('ml-1m');
if (!loc.dir) {
  console.log(`bench:sequential skipped: ml-1m not found (looked in ${loc.searched.join(', ')}; set RECSYS_DATA_DIR)`);
  process.exit(0);
}
const ds = await loadMovieLens(loc.dir, { itemInfo: false });
const split = sequentialSplit(ds);
console.log(
  `${ds.nUsers} users, ${ds.nItems} items, ${ds.nnz} events; ${split.test.users.length} test users; ${cpus().length} hardware threads, threads ${threads}; load ${load()}`,
);

const fmt = (r: SequentialResult) =>
  `full HR@10 ${r['hr@10']!.toFixed(4)} NDCG@10 ${r['ndcg@10']!.toFixed(4)} | sampled HR@10 ${r['sampled_hr@10']!.toFixed(4)} NDCG@10 ${r['sampled_ndcg@10']!.toFixed(4)}`;
const score = (m: SequenceScorer, held: HeldOutNext) => evaluateSequential(m, held, ds.nItems, { sequences: split.sequences, seed });

interface Row {
  model: string;
  params: string;
  fitSeconds: number;
  r: SequentialResult;
}
const rows: Row[] = [];

/** Picks the setting with the best validation NDCG@10, then fits it on train + validation and scores the test. */
function tuned(name: string, grid: Record<string, unknown>[], make: (p: Record<string, unknown>) => Recommender): void {
  let best: { p: Record<string, unknown>; v: number } | undefined;
  for (const p of grid) {
    const m = make(p).fit(split.train);
    const v = score(m, split.validation)['ndcg@10']!;
    console.log(`  ${name} ${JSON.stringify(p)}: validation NDCG@10 ${v.toFixed(4)}`);
    if (!best || v > best.v) best = { p, v };
  }
  const m = make(best!.p);
  const t0 = performance.now();
  m.fit(split.trainValid);
  const fitSeconds = (performance.now() - t0) / 1000;
  const r = score(m, split.test);
  rows.push({ model: name, params: JSON.stringify(best!.p), fitSeconds, r });
  console.log(`${name} ${JSON.stringify(best!.p)}: fit ${fitSeconds.toFixed(1)} s; test ${fmt(r)}; load ${load()}`);
}

if (only.has('transitions')) {
  const grid: Record<string, unknown>[] = [];
  for (const historyLength of [1, 3, 5])
    for (const window of [1, 2]) for (const popularityWeight of [0.01, 0.1]) grid.push({ historyLength, window, popularityWeight });
  tuned('ItemTransitions', grid, (p) => new ItemTransitions({ ...p, threads }));
}
if (only.has('ease')) tuned('EASE', [{ lambda: 100 }, { lambda: 500 }, { lambda: 2000 }], (p) => new EASE({ binary: true, ...p, threads }));
if (only.has('als'))
  tuned(
    'ImplicitALS',
    [
      { factors: 64, reg: 10, alpha: 0 },
      { factors: 128, reg: 50, alpha: 0 },
      { factors: 64, reg: 1, alpha: 1 },
    ],
    (p) => new ImplicitALS({ binary: true, ...p, threads }),
  );

if (only.has('sasrec')) {
  const backend = await initDeepBackend();
  console.log(
    `SASRec ${JSON.stringify(SASREC)} on TensorFlow.js ${backend.tfjsVersion} ${backend.name}${backend.simd ? ' (SIMD)' : ''}, ${backend.threads ?? '?'} thread(s); load ${load()}`,
  );
  const m = new SASRec(SASREC);
  const t0 = performance.now();
  // CPU seconds of this process beside the wall clock: on a shared machine the wall time stretches with other
  // jobs' load, the CPU time much less (the wasm backend runs on this thread).
  const cpu0 = process.cpuUsage();
  const cpuSeconds = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1e6;
  };
  m.fit(split.trainValid, {
    onProgress: (p) =>
      console.log(`  epoch ${p.step}/${p.total}: loss ${p.loss?.toFixed(4)}, ${p.seconds.toFixed(0)} s wall, ${cpuSeconds().toFixed(0)} s CPU, load ${load()}`),
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  const fitCpu = cpuSeconds();
  const r = score(m, split.test);
  rows.push({ model: 'SASRec', params: JSON.stringify(SASREC), fitSeconds, r });
  console.log(`SASRec: fit ${fitSeconds.toFixed(1)} s wall, ${fitCpu.toFixed(1)} s CPU; test ${fmt(r)}; load ${load()}`);
}

console.log('\n| model | settings | fit (s) | full HR@10 | full NDCG@10 | sampled HR@10 | sampled NDCG@10 |\n|---|---|---|---|---|---|---|');
for (const { model, params, fitSeconds, r } of rows)
  console.log(
    `| ${model} | \`${params}\` | ${fitSeconds.toFixed(1)} | ${r['hr@10']!.toFixed(4)} | ${r['ndcg@10']!.toFixed(4)} | ${r['sampled_hr@10']!.toFixed(4)} | ${r['sampled_ndcg@10']!.toFixed(4)} |`,
  );
console.log(`load average at the end: ${load()}`);
