// `recsys demo [path]`: the main job. Loads MovieLens 100K (or a generated dataset when none is found), splits it,
// fits every model of the registry, prints an evaluation table and one user's top-10 titles.
import { Dataset } from '../data/dataset.js';
import type { Id } from '../data/idmap.js';
import { findDatasetDir, loadMovieLens } from '../data/movielens.js';
import { perUserSplit, randomSplit } from '../data/split.js';
import { plantedDataset } from '../data/synthetic.js';
import { RecsysError, show } from '../errors.js';
import { evaluate } from '../eval/evaluate.js';
import { info } from '../info.js';
import { models } from '../models/registry.js';
import { intOption, parseArgs } from './args.js';

interface Row {
  model: string;
  fitSeconds: number;
  rmse?: number;
  mae?: number;
  'precision@10'?: number;
  'recall@10'?: number;
  'ndcg@10'?: number;
  'map@10'?: number;
  'coverage@10'?: number;
}

async function loadData(path: string | undefined, generated: boolean, say: (s: string) => void): Promise<{ data: Dataset; source: string }> {
  if (path) return { data: await loadMovieLens(path), source: path };
  if (!generated) {
    const loc = findDatasetDir('ml-100k');
    if (loc.dir) return { data: await loadMovieLens(loc.dir), source: loc.dir };
    say(`MovieLens 100K not found (looked in ${loc.searched.join(', ')}; pass a path or set RECSYS_DATA_DIR).`);
    say('Running on a built-in generated dataset with planted taste groups instead.');
  }
  return { data: plantedDataset({ users: 943, items: 1682, groups: 8, perUser: 60 }), source: 'generated (planted taste groups)' };
}

const fmt = (v: number | undefined, d = 4) => (v === undefined ? '—' : v.toFixed(d));

export async function demoCommand(args: string[]): Promise<void> {
  const { opts, positionals } = parseArgs(args, { flags: ['json', 'generated'], values: ['threads', 'user', 'seed'] });
  if (positionals.length > 1) throw new RecsysError('E_ARG', 'demo takes at most one path');
  const threads = intOption(opts.threads, 'threads', 0);
  const seed = intOption(opts.seed, 'seed', 42);
  const json = opts.json === true;
  const say = (s: string) => {
    if (!json) console.log(s);
  };
  const i = info();
  say(`recsys ${i.version} · BLAS ${i.blas} · ${threads || i.defaultThreads} threads · ${i.simd}`);
  const { data, source } = await loadData(positionals[0], opts.generated === true, say);
  const st = data.stats();
  say(`data: ${source}: ${st.users} users, ${st.items} items, ${st.interactions} interactions (density ${(st.density * 100).toFixed(2)}%)`);

  // Rating models: a random 80/20 holdout over ratings. Ranking: per user 80/20, train items excluded.
  const rating = data.hasRatings ? randomSplit(data, { testFraction: 0.2, seed }) : undefined;
  const ranking = perUserSplit(data, { testFraction: 0.2, seed });
  say(
    `splits: rating ${rating ? `${rating.train.nnz}/${rating.test.nnz}` : 'n/a (no ratings)'}, ranking per user ${ranking.train.nnz}/${ranking.test.nnz} (seed ${seed})\n`,
  );

  const rows: Row[] = [];
  const fitted = new Map<string, ReturnType<(typeof models)[number]['create']>>();
  // Models whose optional dependency (TensorFlow.js for the deep ones) is not installed: left out, said once.
  const skipped: { model: string; reason: string }[] = [];
  for (const entry of models) {
    if (entry.demo === false || (entry.needsRatings && !data.hasRatings)) continue;
    const params = { ...(entry.demo ?? {}), threads };
    try {
      entry.create(params);
    } catch (err) {
      if (!(err instanceof RecsysError && err.code === 'E_DEPENDENCY')) throw err;
      skipped.push({ model: entry.name, reason: err.message });
      continue;
    }
    const row: Row = { model: entry.name, fitSeconds: 0 };
    if (entry.tasks.includes('rating') && rating) {
      const m = entry.create(params);
      const t0 = performance.now();
      await m.fitAsync(rating.train);
      row.fitSeconds = (performance.now() - t0) / 1000;
      const r = evaluate(m, rating.test, { metrics: ['rmse', 'mae'], threads });
      row.rmse = r.rmse;
      row.mae = r.mae;
    }
    if (entry.tasks.includes('ranking')) {
      const m = entry.create(params);
      const t0 = performance.now();
      await m.fitAsync(ranking.train);
      const secs = (performance.now() - t0) / 1000;
      if (!row.fitSeconds) row.fitSeconds = secs;
      const r = evaluate(m, ranking.test, { k: 10, metrics: ['precision', 'recall', 'ndcg', 'map', 'coverage'], threads });
      Object.assign(row, {
        'precision@10': r['precision@10'],
        'recall@10': r['recall@10'],
        'ndcg@10': r['ndcg@10'],
        'map@10': r['map@10'],
        'coverage@10': r['coverage@10'],
      });
      fitted.set(entry.name, m);
    }
    rows.push(row);
    say(`  fitted ${entry.name} in ${row.fitSeconds.toFixed(3)} s`);
  }

  if (skipped.length) say(`  skipped ${skipped.map((s) => s.model).join(', ')} (${skipped[0]!.reason})`);

  // The best ranking model by NDCG@10 recommends for one user.
  const best = rows.filter((r) => r['ndcg@10'] !== undefined).sort((a, b) => b['ndcg@10']! - a['ndcg@10']!)[0];
  const model = best ? fitted.get(best.model)! : undefined;
  const train = ranking.train;
  let userId: Id = opts.user !== undefined ? String(opts.user) : train.users.id(0);
  if (opts.user !== undefined && train.users.index(userId) < 0 && Number.isFinite(Number(opts.user))) userId = Number(opts.user);
  if (train.users.index(userId) < 0) throw new RecsysError('E_UNKNOWN_USER', `--user ${show(opts.user)} is not in the data`);
  const u = train.users.index(userId);
  const liked = Array.from(train.userItems(u), (item, j) => ({ item, r: train.userValues(u)?.[j] ?? 1 }))
    .sort((a, b) => b.r - a.r || a.item - b.item)
    .slice(0, 5);
  const recs = model ? model.recommend(userId, { k: 10 }) : [];

  if (json) {
    console.log(
      JSON.stringify(
        {
          source,
          stats: st,
          threads: threads || i.defaultThreads,
          results: rows,
          skipped,
          user: userId,
          bestModel: best?.model,
          recommendations: recs.map((r) => ({ ...r, title: train.itemTitle(train.items.index(r.item)) })),
        },
        null,
        2,
      ),
    );
    return;
  }
  const header = ['model', 'fit s', 'RMSE', 'MAE', 'P@10', 'R@10', 'NDCG@10', 'MAP@10', 'cov@10'];
  const table = rows.map((r) => [
    r.model,
    r.fitSeconds.toFixed(3),
    fmt(r.rmse),
    fmt(r.mae),
    fmt(r['precision@10']),
    fmt(r['recall@10']),
    fmt(r['ndcg@10']),
    fmt(r['map@10']),
    fmt(r['coverage@10'], 3),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  console.log('\n' + line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table) console.log(line(r));
  console.log('\nRMSE/MAE: random 80/20 holdout of ratings. Ranking: per-user 80/20, full catalogue, train items excluded, P@10 = hits/10.');
  console.log(`\nUser ${String(userId)} rated highly: ${liked.map((l) => train.itemTitle(l.item)).join('; ')}`);
  if (best) {
    console.log(`Top 10 for user ${String(userId)} from ${best.model} (best NDCG@10):`);
    recs.forEach((r, j) => console.log(`  ${String(j + 1).padStart(2)}. ${train.itemTitle(train.items.index(r.item))}`));
  }
}
