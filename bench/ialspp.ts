// ImplicitALS's iALS++ block solver against implicit's conjugate gradient at many factors (issue 14, part 5), side by
// side in one run on the generated 10M-interaction matrix of bench:implicit's scale part (100k users x 20k items,
// power law, binary), and block vs CG accuracy on the ML-1M part.
//
//   npx tsx bench/ialspp.ts [--factors 256] [--iterations 3] [--threads 2] [--runs 1] [--blocks 32,64,128]
//                           [--part scale,accuracy] [--accuracy-iterations 15]
//
// implicit runs from the peers' Python (bench/peers.ts: $RECSYS_PEERS_PYTHON, else bench/peers/.venv/bin/python,
// else python3; only `implicit` is needed here) with OPENBLAS_NUM_THREADS=1 and num_threads = --threads. Both sides
// see the same CSR (written to a temp dir as raw int32 arrays). Confidence: binary data, implicit alpha 2 = recsys
// alpha 1 (c = 2 on every observed pair), the same reg; implicit's CG takes its default 3 steps, as recsys's CG.
// Seconds per iteration are the median of the iterations' times (progress callbacks on both sides).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, findDatasetDir, ImplicitALS, info, loadMovieLens, perUserSplit, type ImplicitALSParams } from '../ts/index.js';
import { BENCH_DIR } from './common.js';
import { powerLawDataset } from './powerlaw.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a.startsWith('--')) {
    const [k, v] = a.slice(2).split('=');
    args.set(k!, v ?? process.argv[++i] ?? 'true');
  }
}
const factors = Number(args.get('factors') ?? 256);
const iterations = Number(args.get('iterations') ?? 3);
const threads = Number(args.get('threads') ?? 2);
const runs = Number(args.get('runs') ?? 1);
const blocks = (args.get('blocks') ?? '32,64,128').split(',').map(Number);
const parts = (args.get('part') ?? 'scale,accuracy').split(',');
const reg = Number(args.get('reg') ?? 0.01);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () =>
  `load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;

function python(): string | undefined {
  for (const py of [process.env.RECSYS_PEERS_PYTHON, join(BENCH_DIR, 'peers', '.venv', 'bin', 'python'), 'python3']) {
    if (!py || (py.includes('/') && !existsSync(py))) continue;
    if (spawnSync(py, ['-c', 'import implicit'], { encoding: 'utf8' }).status === 0) return py;
  }
  return undefined;
}

const PY = `
import sys, json, time, numpy as np, scipy.sparse as sp
from threadpoolctl import threadpool_limits
import implicit
d, rows, cols, factors, its, threads, reg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
indptr = np.fromfile(d + "/indptr.bin", dtype=np.int32)
indices = np.fromfile(d + "/indices.bin", dtype=np.int32)
R = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(rows, cols))
m = implicit.cpu.als.AlternatingLeastSquares(factors=factors, regularization=reg, alpha=2.0, iterations=its, random_state=42, num_threads=threads, calculate_training_loss=False)
stamps, cpu = [], []
t0, c0 = time.perf_counter(), time.process_time()
def cb(*a):
    stamps.append(time.perf_counter())
    cpu.append(time.process_time())
with threadpool_limits(1, "blas"):
    m.fit(R, show_progress=False, callback=cb)
per = [b - a for a, b in zip([t0] + stamps[:-1], stamps)]
per_cpu = [b - a for a, b in zip([c0] + cpu[:-1], cpu)]
print(json.dumps({"seconds": per, "cpu": per_cpu, "fit": time.perf_counter() - t0, "version": implicit.__version__}))
`;

/** Wall and CPU seconds (all threads) of each iteration. */
function recsysPerIteration(ds: Parameters<ImplicitALS['fit']>[0], p: ImplicitALSParams): { seconds: number[]; cpu: number[] } {
  const secs: number[] = [],
    cpu: number[] = [];
  let last = 0;
  let lastCpu = process.cpuUsage();
  new ImplicitALS({ factors, iterations, threads, reg, alpha: 1, binary: true, ...p }).fit(ds, {
    onProgress: (q) => {
      secs.push(q.seconds - last);
      last = q.seconds;
      const c = process.cpuUsage(lastCpu);
      cpu.push((c.user + c.system) / 1e6);
      lastCpu = process.cpuUsage();
    },
  });
  return { seconds: secs, cpu };
}

const i = info();
console.log(`recsys ${i.version}, BLAS ${i.blas}, simd ${i.simd}, ${threads} threads, ${factors} factors; ${load()}`);

if (parts.includes('scale')) {
  const ds = powerLawDataset({ users: 100_000, items: 20_000, interactions: 10_000_000, userExp: 0.5, itemExp: 0.8, seed: 42 });
  console.log(
    `\nscale: ${ds.nUsers} users x ${ds.nItems} items, ${ds.nnz} interactions, ${iterations} iterations per fit, ${runs} run(s); seconds per iteration (median of iterations; of runs)`,
  );
  const py = python();
  const dir = mkdtempSync(join(tmpdir(), 'recsys-ialspp-'));
  writeFileSync(join(dir, 'indptr.bin'), ds.csr.indptr);
  writeFileSync(join(dir, 'indices.bin'), ds.csr.indices);
  const configs: [string, ImplicitALSParams][] = [
    ['recsys CG 3 steps', { solver: 'cg' }],
    ...blocks.map((b): [string, ImplicitALSParams] => [`recsys block ${b}`, { solver: 'block', blockSize: b }]),
  ];
  const res = new Map<string, number[]>();
  const resCpu = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  try {
    for (let r = 0; r < runs; r++) {
      for (const [name, p] of configs) {
        const s = recsysPerIteration(ds, p);
        push(res, name, median(s.seconds));
        push(resCpu, name, median(s.cpu));
        console.log(
          `  ${name.padEnd(24)} ${s.seconds.map((x) => x.toFixed(2)).join(', ')} s, CPU ${s.cpu.map((x) => x.toFixed(2)).join(', ')} s   (${load()})`,
        );
      }
      if (py) {
        const out = execFileSync(py, ['-c', PY, dir, String(ds.nUsers), String(ds.nItems), String(factors), String(iterations), String(threads), String(reg)], {
          encoding: 'utf8',
          env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OPENBLAS_CORETYPE: '', OPENBLAS_L2_SIZE: '' },
        });
        const j = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number[]; cpu: number[]; version: string };
        push(res, 'implicit', median(j.seconds));
        push(resCpu, 'implicit', median(j.cpu));
        console.log(
          `  ${`implicit ${j.version} CG`.padEnd(24)} ${j.seconds.map((x) => x.toFixed(2)).join(', ')} s, CPU ${j.cpu.map((x) => x.toFixed(2)).join(', ')} s   (${load()})`,
        );
      } else console.log('  implicit: no Python with implicit (see bench/peers.ts); skipped');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const imp = res.has('implicit') ? median(res.get('implicit')!) : NaN;
  const impCpu = resCpu.has('implicit') ? median(resCpu.get('implicit')!) : NaN;
  console.log('\n  model                    s/iteration   / implicit   CPU s/iteration   / implicit');
  for (const [name, xs] of res) {
    const c = median(resCpu.get(name)!);
    console.log(
      `  ${name.padEnd(24)} ${median(xs).toFixed(2).padStart(11)}   ${(median(xs) / imp).toFixed(2).padStart(10)}   ${c.toFixed(2).padStart(15)}   ${(c / impCpu).toFixed(2)}`,
    );
  }
}

if (parts.includes('accuracy')) {
  const where = findDatasetDir('ml-1m');
  if (!where.dir) console.log(`\nML-1M part not found (looked in ${where.searched.join(', ')}); accuracy skipped`);
  else {
    const ds = await loadMovieLens(where.dir, { itemInfo: false });
    const { train, test } = perUserSplit(ds, { testFraction: 0.2, seed: 42 });
    const its = Number(args.get('accuracy-iterations') ?? 15);
    const areg = Number(args.get('accuracy-reg') ?? 1);
    console.log(
      `\naccuracy: ML-1M part (${train.nnz} train / ${test.nnz} test, per-user 80/20 seed 42, binary), ${factors} factors, reg ${areg}, alpha 1, ${its} iterations`,
    );
    const configs: [string, ImplicitALSParams][] = [
      ['CG 3 steps', { solver: 'cg' }],
      ...blocks.map((b): [string, ImplicitALSParams] => [`block ${b}`, { solver: 'block', blockSize: b }]),
    ];
    for (const [name, p] of configs) {
      const t0 = performance.now();
      const m = new ImplicitALS({ factors, iterations: its, threads, reg: areg, alpha: 1, binary: true, ...p }).fit(train);
      const fit = (performance.now() - t0) / 1000;
      const e = evaluate(m, test, { k: 10, metrics: ['ndcg', 'recall'], threads });
      console.log(`  ${name.padEnd(14)} NDCG@10 ${e['ndcg@10']!.toFixed(4)}  Recall@10 ${e['recall@10']!.toFixed(4)}  fit ${fit.toFixed(1)} s   (${load()})`);
    }
  }
}
