// Diversity vs accuracy of MMR re-ranking (and genre caps) on ML-100K with ImplicitALS.
// Protocol: per-user 80/20 holdout (seed 42) as bench:accuracy; ImplicitALS with the registry's demo settings; for
// every test user the top 10 (training items left out) under each setting. NDCG@10 with binary relevance (the
// held-out items); intra-list diversity (ILD) = 1 - mean pairwise similarity of the list's genre sets (from
// u.item), as Jaccard and as cosine of the genre indicator vectors; genre coverage = distinct genres in the list.
// MMR's candidate pool: the top 50 (rules' default for k = 10).
//
//   npm run bench:diversity [-- --threads 2 --lambda 0.9,0.7,0.5,0.3]
//
// Results: bench/results/diversity.json, the trade-off plot bench/results/diversity.svg (NDCG@10 against ILD) and the
// diversity section of BENCHMARKS.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImplicitALS, ItemAttributes, findDatasetDir, loadMovieLens, modelEntry, perUserSplit, evaluate, type DiversityOptions } from '../ts/index.js';
import { rankWithRules } from '../ts/serve/rules.js';
import { lineChart, standaloneSvg } from '../ts/report/svg.js';
import { describeInfo, fmt, listOption, load1, mdTable, parseOptions, RESULTS_DIR, runInfo, table } from './common.js';
import { updateBenchmarksMd } from './markdown.js';

const { opts } = parseOptions();
const threads = Number(opts.get('threads') ?? 2);
// The plain list (lambda 1) always runs first: the others are compared with it.
const lambdas = [1, ...(listOption(opts.get('lambda')) ?? ['0.9', '0.7', '0.5', '0.3']).map(Number).filter((x) => x !== 1)];
const K = 10;

const ds = await loadMovieLens(findDatasetDir('ml-100k').dir!, { itemInfo: true });
const { train, test } = perUserSplit(ds, { testFraction: 0.2, seed: 42 });
const demo = modelEntry('ImplicitALS').demo;
const params = { ...(demo && typeof demo === 'object' ? demo : {}), threads };
const t0 = performance.now();
const model = new ImplicitALS(params).fit(train);
const fitSeconds = (performance.now() - t0) / 1000;
const genres: string[][] = Array.from({ length: train.nItems }, (_, i) => (ds.itemInfo?.[i]?.genres ?? []).filter((g) => g !== 'unknown'));
const attrs = ItemAttributes.from(Object.fromEntries(genres.map((g, i) => [String(train.items.id(i)), { genre: g }])));
const users: number[] = [];
for (let u = 0; u < test.nUsers; u++) if (test.userItems(u).length > 0) users.push(u);

function jaccard(a: string[], b: string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const s = new Set(a);
  const inter = b.filter((x) => s.has(x)).length;
  return inter / (a.length + b.length - inter);
}
function cosine(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const s = new Set(a);
  return b.filter((x) => s.has(x)).length / Math.sqrt(a.length * b.length);
}

interface Row {
  setting: string;
  lambda: number;
  caps?: number;
  ndcg10: number;
  ildJaccard: number;
  ildCosine: number;
  genres: number;
  msPerUser: number;
  /** Share of users whose list differs from the plain one (order included). */
  changed: number;
}
const plainLists = new Map<number, string>();

function run(setting: string, lambda: number, diversity: DiversityOptions | undefined): Row {
  let ndcg = 0,
    ildJ = 0,
    ildC = 0,
    cover = 0,
    changed = 0;
  const t = performance.now();
  for (const u of users) {
    const list = rankWithRules(model, { user: u }, { k: K, filterSeen: true, diversity }, attrs).map((r) => train.items.index(r.item));
    const key = list.join(',');
    if (diversity === undefined) plainLists.set(u, key);
    else if (plainLists.get(u) !== key) changed++;
    const rel = new Set(test.userItems(u));
    let dcg = 0,
      idcg = 0;
    list.forEach((i, p) => {
      if (rel.has(i)) dcg += 1 / Math.log2(p + 2);
    });
    for (let p = 0; p < Math.min(K, rel.size); p++) idcg += 1 / Math.log2(p + 2);
    ndcg += dcg / idcg;
    let sj = 0,
      sc = 0,
      pairs = 0;
    for (let a = 0; a < list.length; a++)
      for (let b = a + 1; b < list.length; b++) {
        sj += jaccard(genres[list[a]!]!, genres[list[b]!]!);
        sc += cosine(genres[list[a]!]!, genres[list[b]!]!);
        pairs++;
      }
    ildJ += 1 - sj / pairs;
    ildC += 1 - sc / pairs;
    cover += new Set(list.flatMap((i) => genres[i]!)).size;
  }
  const n = users.length;
  return {
    setting,
    lambda,
    caps: diversity?.caps?.genre,
    ndcg10: ndcg / n,
    ildJaccard: ildJ / n,
    ildCosine: ildC / n,
    genres: cover / n,
    msPerUser: (performance.now() - t) / n,
    changed: changed / n,
  };
}

const rows: Row[] = [];
for (const lambda of lambdas) {
  rows.push(run(lambda === 1 ? 'plain (lambda 1)' : `MMR lambda ${lambda}`, lambda, lambda === 1 ? undefined : { lambda }));
  console.log(`lambda ${lambda} done (load ${load1()})`);
}
rows.push(run('genre caps 3', 1, { caps: { genre: 3 } }));
rows.push(run('genre caps 2', 1, { caps: { genre: 2 } }));
const check = evaluate(model, test, { train, k: 10, metrics: ['ndcg'], threads })['ndcg@10']!;
const info = runInfo(threads, [
  `ImplicitALS ${JSON.stringify(params)}, fit ${fitSeconds.toFixed(1)} s; ${users.length} test users; evaluate() NDCG@10 ${check.toFixed(4)}`,
]);
const header = ['setting', 'NDCG@10', 'ILD (Jaccard)', 'ILD (cosine)', 'genres in top 10', 'lists changed', 'ms/user'];
const cells = rows.map((r) => [
  r.setting,
  fmt(r.ndcg10, 4),
  fmt(r.ildJaccard, 3),
  fmt(r.ildCosine, 3),
  fmt(r.genres, 2),
  `${(100 * r.changed).toFixed(0)}%`,
  fmt(r.msPerUser, 2),
]);
console.log(table(header, cells));
console.log(`evaluate() NDCG@10 (plain): ${check.toFixed(4)}; load ${load1()}`);
writeFileSync(join(RESULTS_DIR, 'diversity.json'), JSON.stringify({ info, rows }, null, 2) + '\n');
// The trade-off plot: NDCG@10 against genre ILD, one line for MMR (lambda falling left to right) and one for caps.
const mmr = rows.filter((r) => r.caps === undefined);
const caps = [rows[0]!, ...rows.filter((r) => r.caps !== undefined)];
const plot = lineChart({
  title: 'ML-100K, ImplicitALS top 10: accuracy vs genre diversity',
  xLabel: 'intra-list diversity (1 - mean genre Jaccard)',
  yLabel: 'NDCG@10',
  series: [
    { name: `MMR, lambda ${mmr.map((r) => r.lambda).join(' / ')}`, points: mmr.map((r) => [r.ildJaccard, r.ndcg10]) },
    {
      name: `genre caps: none / ${caps
        .slice(1)
        .map((r) => r.caps)
        .join(' / ')}`,
      points: caps.map((r) => [r.ildJaccard, r.ndcg10]),
    },
  ],
  width: 600,
  height: 340,
});
writeFileSync(join(RESULTS_DIR, 'diversity.svg'), standaloneSvg(plot));
const body = [
  describeInfo(info),
  '',
  `ML-100K, per-user 80/20 holdout (seed 42), ImplicitALS (${JSON.stringify(params)}), top 10 of ${users.length} test users. MMR over the top 50 by`,
  'the cosine of the item factors; ILD = 1 - mean pairwise genre similarity (u.item genres). evaluate() gives NDCG@10',
  `${check.toFixed(4)} for the plain list (the row lambda 1 computes it again here).`,
  '',
  mdTable(header, cells),
  '',
  '![NDCG@10 against genre ILD for MMR lambdas and genre caps](bench/results/diversity.svg)',
].join('\n');
updateBenchmarksMd('diversity', body);
