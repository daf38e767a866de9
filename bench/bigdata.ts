// Out-of-core ingestion at scale: power-law interactions generated inside DuckDB (SQL over range(), hash-based
// inverse-CDF sampling: no JS loop) and written as Parquet, then Dataset.fromParquet (validation, dedup by sum,
// dense ids, CSR) and ImplicitALS with 64 factors for one iteration. Each size runs in a fresh child process so
// that peak RSS (getrusage maxRSS, and VmHWM) is that size's alone. Prints a table and the fitted exponent b of
// time = a * N^b from the smallest to the largest size (1 = linear).
//   npx tsx bench/bigdata.ts [--sizes 1e6,1e7,1e8] [--threads 2] [--memory-limit 3GB] [--dir /tmp/...] [--keep]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataset, models } from '../ts/index.js';
import { withDuckDB } from '../ts/data/duckdb.js';

function flag(name: string, dflt: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] !== undefined ? process.argv[k + 1]! : dflt;
}
const threads = Number(flag('threads', String(availableParallelism())));
const memoryLimit = flag('memory-limit', '2GB');
const root = flag('dir', join(tmpdir(), 'recsys-bench-bigdata'));

/** Users and items of a size: 50 interactions per user on average, 500 per item (at least 1000 items). */
function shape(n: number): { users: number; items: number } {
  return { users: Math.max(100, Math.round(n / 50)), items: Math.max(1000, Math.round(n / 500)) };
}

/** Writes n interactions as Parquet under dir (one file per DuckDB thread), unless already there. */
async function generate(n: number, dir: string): Promise<number> {
  if (existsSync(join(dir, 'done'))) return 0;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { users, items } = shape(n);
  const t0 = performance.now();
  // u^2 and u^2.5 of a uniform u (from independent hashes of the row number) skew users and items toward low ids,
  // a heavy head and a long tail as in real logs; counts 1..5. Repeated pairs occur (the head meets the head).
  const u = (k: number) => `(hash(3 * range + ${k}) / 18446744073709551616.0)`;
  await withDuckDB({ threads, memoryLimit }, (db) =>
    db.run(
      `COPY (SELECT (floor(${users} * pow(${u(0)}, 2.0)))::INTEGER AS user_id,
                    (floor(${items} * pow(${u(1)}, 2.5)))::INTEGER AS item_id,
                    (1 + hash(3 * range + 2) % 5)::FLOAT AS plays
             FROM range(${n}))
       TO '${join(dir, 'data')}' (FORMAT PARQUET, PER_THREAD_OUTPUT true, OVERWRITE true)`,
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'done'), String(seconds));
  return seconds;
}

function dirBytes(dir: string): number {
  let s = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, f);
    if (statSync(p).isFile()) s += statSync(p).size;
  }
  return s;
}

function vmHWM(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface ChildResult {
  n: number;
  users: number;
  items: number;
  nnz: number;
  merged: number;
  ingest: number;
  /** CPU seconds of the process (every thread) during the ingest: the machine is shared, wall time is not all ours. */
  ingestCpu: number;
  phases: Record<string, number>;
  transpose?: number;
  iteration?: number;
  iterationCpu?: number;
  als?: string;
  maxRSS: number;
  hwm: number;
}

/** One size in this (child) process: ingest, then one ALS iteration. */
async function child(n: number, dir: string): Promise<ChildResult> {
  const phases: Record<string, number> = {};
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ds = await Dataset.fromParquet(join(dir, 'data'), {
    columns: { user: 'user_id', item: 'item_id', rating: 'plays' },
    duplicates: 'sum',
    threads,
    memoryLimit,
    onPhase: (p, s) => (phases[p] = s),
  });
  const ingest = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const ingestCpu = (cu.user + cu.system) / 1e6;
  const out: ChildResult = { n, users: ds.nUsers, items: ds.nItems, nnz: ds.nnz, merged: ds.duplicatesMerged, ingest, ingestCpu, phases, maxRSS: 0, hwm: 0 };
  const entry = models.find((m) => m.name === 'ImplicitALS');
  if (entry) {
    let t = performance.now();
    void ds.csc;
    out.transpose = (performance.now() - t) / 1000;
    const model = entry.create({ factors: 64, iterations: 1, threads, seed: 1 });
    const c1 = process.cpuUsage();
    t = performance.now();
    model.fit(ds);
    out.iteration = (performance.now() - t) / 1000;
    const cf = process.cpuUsage(c1);
    out.iterationCpu = (cf.user + cf.system) / 1e6;
  } else {
    out.als = 'ImplicitALS is not in this build';
  }
  out.maxRSS = process.resourceUsage().maxRSS * 1024;
  out.hwm = vmHWM();
  return out;
}

function exponent(xs: number[], ys: number[]): number {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let k = 0; k < lx.length; k++) {
    num += (lx[k]! - mx) * (ly[k]! - my);
    den += (lx[k]! - mx) ** 2;
  }
  return num / den;
}

const gb = (b: number) => (b / 2 ** 30).toFixed(2);

if (process.argv[2] === '--child') {
  const r = await child(Number(process.argv[3]), process.argv[4]!);
  console.log(`RESULT ${JSON.stringify(r)}`);
} else {
  const sizes = flag('sizes', '1e6,1e7').split(',').map(Number);
  console.log(
    `bigdata benchmark: sizes ${sizes.map((s) => s.toExponential(0)).join(', ')}; DuckDB threads ${threads}, memory_limit ${memoryLimit}; ALS threads ${threads}; ` +
      `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${gb(totalmem())} GiB RAM, node ${process.version}`,
  );
  const results: ChildResult[] = [];
  for (const n of sizes) {
    const dir = join(root, String(n));
    const gen = await generate(n, dir);
    console.log(
      `${n.toExponential(0)}: ${gen ? `generated in ${gen.toFixed(1)} s, ` : 'reusing '}${(dirBytes(join(dir, 'data')) / 2 ** 20).toFixed(0)} MiB of Parquet in ${dir}`,
    );
    const script = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--child', String(n), dir, '--threads', String(threads), '--memory-limit', memoryLimit], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) {
      console.log(`  failed (exit ${r.status}, signal ${r.signal}): ${r.stderr.slice(-2000)}`);
      continue;
    }
    const res = JSON.parse(line.slice(7)) as ChildResult;
    results.push(res);
    console.log(
      `  ${res.nnz} interactions (${res.merged} duplicates summed), ${res.users} users, ${res.items} items: ingest ${res.ingest.toFixed(2)} s (${res.ingestCpu.toFixed(1)} CPU-s) ` +
        `[${Object.entries(res.phases)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}]` +
        (res.iteration !== undefined
          ? `; transpose ${res.transpose!.toFixed(2)} s; ImplicitALS 64 factors: ${res.iteration.toFixed(2)} s / iteration (${res.iterationCpu!.toFixed(1)} CPU-s)`
          : `; ${res.als}`) +
        `; peak RSS ${gb(res.maxRSS)} GiB (VmHWM ${gb(res.hwm)} GiB)`,
    );
  }
  if (results.length >= 2) {
    const ns = results.map((r) => r.n);
    console.log(
      `fitted exponent b (time ~ N^b, ${results.length} sizes): ingest ${exponent(
        ns,
        results.map((r) => r.ingest),
      ).toFixed(2)}` +
        (results.every((r) => r.iteration !== undefined)
          ? `, ALS iteration ${exponent(
              ns,
              results.map((r) => r.iteration!),
            ).toFixed(2)}`
          : '') +
        `, ingest CPU ${exponent(
          ns,
          results.map((r) => r.ingestCpu),
        ).toFixed(2)}, peak RSS ${exponent(
          ns,
          results.map((r) => r.maxRSS),
        ).toFixed(2)}`,
    );
  }
  if (!process.argv.includes('--keep')) rmSync(root, { recursive: true, force: true });
}
