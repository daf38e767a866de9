// Issue 12 item 5: how long an abort takes to stop a fit inside its longest single phases. Each case starts
// fitAsync, aborts after --after ms (default 2000), and reports the time from abort() to the rejection (median
// of --runs). A case still running --limit seconds after the abort (default 60) is reported as "> limit" (the
// process then exits, which ends the worker thread).
//
//   npm run bench:cancel [-- --runs 3 --after 2000 --limit 60 --cases ease,ials,eals]
//
// ease: EASE on 8,000 items (the inversion of the 8000 x 8000 Gram matrix); ials / eals: ImplicitALS with solver
// 'cholesky' / ExplicitALS at 4096 factors (one 4096 x 4096 Cholesky per row).
import { loadavg } from 'node:os';
import { Dataset, EASE, ExplicitALS, IdMap, ImplicitALS } from '../ts/index.js';
import { listOption, median, parseOptions } from './common.js';

const { opts } = parseOptions();
const runs = Number(opts.get('runs') ?? 3);
const after = Number(opts.get('after') ?? 2000);
const limit = Number(opts.get('limit') ?? 60);
const cases = listOption(opts.get('cases')) ?? ['ease', 'ials', 'eals'];

function generated(users: number, items: number, perUser: number, seed: number): Dataset {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const rows: number[] = [],
    cols: number[] = [],
    vals: number[] = [];
  for (let u = 0; u < users; u++) {
    const seen = new Set<number>();
    while (seen.size < perUser) seen.add(Math.floor(items * rnd()));
    for (const i of seen) {
      rows.push(u);
      cols.push(i);
      vals.push(1 + Math.floor(rnd() * 5));
    }
  }
  const ids = (n: number) => new IdMap(Array.from({ length: n }, (_, i) => i));
  return Dataset.fromCoo(ids(users), ids(items), Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals));
}

type Fit = (signal: AbortSignal) => Promise<unknown>;
const defs: Record<string, [string, () => Fit]> = {
  ease: [
    'EASE, 8,000 items',
    () => {
      const ds = generated(4000, 8000, 40, 1);
      return (signal) => new EASE({ threads: 0 }).fitAsync(ds, { signal });
    },
  ],
  ials: [
    'ImplicitALS cholesky, 4096 factors',
    () => {
      const ds = generated(300, 300, 30, 2);
      return (signal) => new ImplicitALS({ threads: 0, factors: 4096, iterations: 2, solver: 'cholesky' }).fitAsync(ds, { signal });
    },
  ],
  eals: [
    'ExplicitALS, 4096 factors',
    () => {
      const ds = generated(300, 300, 30, 3);
      return (signal) => new ExplicitALS({ threads: 0, factors: 4096, epochs: 2 }).fitAsync(ds, { signal });
    },
  ],
};

console.log(
  `abort after ${after} ms, runs ${runs} (median), give up after ${limit} s; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
for (const c of cases) {
  const def = defs[c];
  if (!def) throw new Error(`unknown case '${c}' (known: ${Object.keys(defs).join(', ')})`);
  const [label, make] = def;
  const fit = make();
  const lat: number[] = [];
  let code = '';
  for (let r = 0; r < runs; r++) {
    const ac = new AbortController();
    const p = fit(ac.signal).then(
      () => 'finished',
      (e: { code?: string }) => e.code ?? 'error',
    );
    await new Promise((res) => setTimeout(res, after));
    const t0 = performance.now();
    ac.abort();
    const got = await Promise.race([p, new Promise<string>((res) => setTimeout(() => res('timeout'), limit * 1000))]);
    if (got === 'timeout') {
      console.log(`${label.padEnd(36)} > ${limit} s (still running; stopping here)`);
      process.exit(0);
    }
    code = got;
    lat.push(performance.now() - t0);
  }
  console.log(`${label.padEnd(36)} ${median(lat).toFixed(0).padStart(7)} ms  (${code}; runs: ${lat.map((x) => x.toFixed(0)).join(', ')} ms)`);
}
process.exit(0);
