// SANSA against EASE (issue 14 part 4): NDCG@10 on ML-100K and the ML-1M part (the per-user 80/20 split of
// bench:accuracy, seed 42) at a few densities with the % difference to EASE, and the fit time and peak memory on a
// generated power-law catalogue of 1M items / 10M interactions (EASE would need 4 TB there). Each measurement runs
// in its own child process, so its peak RSS (VmHWM from /proc/self/status) is its own.
//
//   npm run bench:sansa [-- --threads 2 --densities default,0.8,0.5,0.2 --big-density default --skip-big --skip-movielens]
// 'default' leaves density unset: the model's entry budget (`entries`, 10M) sets it from the catalogue size.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { EASE, SANSA, evaluate, findDatasetDir, loadMovieLens, perUserSplit, type Recommender } from '../ts/index.js';
import { parseOptions } from './common.js';
import { powerLawDataset } from './powerlaw.js';

const { opts } = parseOptions();
const threads = Number(opts.get('threads') ?? 2);

/** Peak resident set of this process in MB, from /proc (Linux), else Node's maxRSS. */
function peakRssMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

interface Row {
  dataset: string;
  model: string;
  density?: number;
  ndcg?: number;
  fitSeconds: number;
  /** CPU seconds of the fit (user + system, all threads): what the wall time would be near on an idle machine, times threads at best. */
  fitCpuSeconds: number;
  peakRssMB: number;
  weights?: number;
  items?: number;
  interactions?: number;
}

async function child(spec: string): Promise<Row> {
  const [dataset, model, d] = spec.split(':') as [string, string, string | undefined];
  const density = d === undefined || d === 'default' ? undefined : Number(d);
  const make = (): Recommender => (model === 'EASE' ? new EASE({ binary: true, threads }) : new SANSA({ binary: true, threads, density }));
  if (dataset === 'powerlaw') {
    const ds = powerLawDataset({ users: 1_000_000, items: 1_000_000, interactions: 10_000_000, userExp: 0.5, itemExp: 0.8, seed: 42 });
    const m = make();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    m.fit(ds);
    const fitSeconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const fitCpuSeconds = (c.user + c.system) / 1e6;
    const weights = m.nativeModel.state().encoder_values!.data.length;
    // a sanity check that it recommends
    if (m.recommend(ds.users.id(0), { k: 10 }).length !== 10) throw new Error('no recommendations');
    return { dataset, model, density, fitSeconds, fitCpuSeconds, peakRssMB: peakRssMB(), weights, items: ds.nItems, interactions: ds.nnz };
  }
  const ds = await loadMovieLens(findDatasetDir(dataset).dir!, { itemInfo: false });
  const { train, test } = perUserSplit(ds, { testFraction: 0.2, seed: 42 });
  const m = make();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  m.fit(train);
  const fitSeconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const fitCpuSeconds = (c.user + c.system) / 1e6;
  const ndcg = evaluate(m, test, { k: 10, metrics: ['ndcg'], threads })['ndcg@10']!;
  const weights = model === 'SANSA' ? m.nativeModel.state().encoder_values!.data.length : train.nItems ** 2;
  return { dataset, model, density, ndcg, fitSeconds, fitCpuSeconds, peakRssMB: peakRssMB(), weights, items: train.nItems, interactions: train.nnz };
}

function run(spec: string): Row | { error: string; spec: string } {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', spec, `--threads=${threads}`], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').pop()!) as Row;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { spec, error: (e.stderr || e.message).trim().split('\n').slice(-3).join(' ') };
  }
}

const load = () => loadavg()[0]!.toFixed(1);

async function parent(): Promise<void> {
  const densities = (opts.get('densities') ?? 'default,0.8,0.5,0.2').split(',');
  console.log(
    `bench:sansa, ${threads} threads, load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  if (!opts.has('skip-movielens'))
    for (const dataset of ['ml-100k', 'ml-1m']) {
      if (!findDatasetDir(dataset).dir) {
        console.log(`${dataset}: not found (set RECSYS_DATA_DIR), skipped`);
        continue;
      }
      const ease = run(`${dataset}:EASE`);
      if ('error' in ease) {
        console.log(`${dataset} EASE failed: ${ease.error}`);
        continue;
      }
      console.log(
        `${dataset} (${ease.items} items, ${ease.interactions} train interactions): EASE NDCG@10 ${ease.ndcg!.toFixed(4)}, fit ${ease.fitSeconds.toFixed(1)} s (${ease.fitCpuSeconds.toFixed(1)} s CPU), peak RSS ${ease.peakRssMB.toFixed(0)} MB, load ${load()}`,
      );
      for (const d of densities) {
        const r = run(`${dataset}:SANSA:${d}`);
        if ('error' in r) {
          console.log(`  SANSA density ${d}: failed: ${r.error}`);
          continue;
        }
        const diff = ((r.ndcg! - ease.ndcg!) / ease.ndcg!) * 100;
        console.log(
          `  SANSA density ${d}: NDCG@10 ${r.ndcg!.toFixed(4)} (${diff >= 0 ? '+' : ''}${diff.toFixed(2)}% vs EASE), fit ${r.fitSeconds.toFixed(1)} s (${r.fitCpuSeconds.toFixed(1)} s CPU), peak RSS ${r.peakRssMB.toFixed(0)} MB, ${r.weights} encoder entries, load ${load()}`,
        );
      }
    }
  if (!opts.has('skip-big')) {
    const d = opts.get('big-density') ?? 'default';
    const r = run(`powerlaw:SANSA:${d}`);
    if ('error' in r) console.log(`powerlaw 1M items / 10M interactions, SANSA density ${d}: failed: ${r.error}`);
    else
      console.log(
        `powerlaw ${r.items} items / ${r.interactions} interactions, SANSA density ${d}: fit ${r.fitSeconds.toFixed(1)} s (${r.fitCpuSeconds.toFixed(1)} s CPU; target <= 120), peak RSS ${(r.peakRssMB / 1024).toFixed(2)} GB (target <= 4, whole process incl. the dataset), ${r.weights} encoder entries, load ${load()}`,
      );
  }
}

const childSpec = opts.get('child');
if (childSpec) console.log(JSON.stringify(await child(childSpec)));
else await parent();
