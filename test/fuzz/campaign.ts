// `npm run fuzz`: a long fuzz campaign over every target. FUZZ_RUNS cases in all (default 200,000) are split by
// the targets' weights (test/fuzz/targets/index.ts) and run in chunks by FUZZ_JOBS worker processes at a time
// (default 2). Prints progress every 10 s and, at the end or on Ctrl-C, one table of the totals per target and
// every distinct finding with the command that reproduces it. Exit status 1 if anything was found.
//   FUZZ_SEED=n        the run's seed (default: fresh, printed)
//   FUZZ_TARGETS=a,b   only these targets
//   FUZZ_CHUNK=n       cases per worker process (default 2000)
//   FUZZ_REPORT=path   also write the tallies and findings as JSON
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KINDS,
  addTally,
  distinctFindings,
  emptyTally,
  formatFinding,
  formatTable,
  killWorkers,
  runRange,
  runSeed,
  runsFor,
  type Kind,
  type Tally,
} from './driver.js';
import { TARGETS } from './targets/index.js';

if (!process.env.FUZZ_RUNS) process.env.FUZZ_RUNS = '200000';
const seed = runSeed();
const jobs = Math.max(1, Number(process.env.FUZZ_JOBS ?? 2));
const chunk = Math.max(1, Number(process.env.FUZZ_CHUNK ?? 2000));
const names = process.env.FUZZ_TARGETS ? process.env.FUZZ_TARGETS.split(',').map((s) => s.trim()) : Object.keys(TARGETS);
for (const n of names) if (!TARGETS[n]) throw new Error(`unknown target '${n}' (targets: ${Object.keys(TARGETS).join(', ')})`);

// Chunks, interleaved across targets so an interrupted campaign has covered all of them.
const perTarget = new Map(names.map((n) => [n, runsFor(n)] as const));
const total = [...perTarget.values()].reduce((a, b) => a + b, 0);
const queues = names.map((n) => {
  const q: [string, number, number][] = [];
  for (let s = 0; s < perTarget.get(n)!; s += chunk) q.push([n, s, Math.min(perTarget.get(n)!, s + chunk)]);
  return q;
});
const chunks: [string, number, number][] = [];
while (queues.some((q) => q.length)) for (const q of queues) if (q.length) chunks.push(q.shift()!);

console.log(
  `fuzz campaign: seed ${seed}, ${total} cases (${names.map((n) => `${n} ${perTarget.get(n)}`).join(', ')}), ${jobs} workers (FUZZ_SEED=${seed} to reproduce)`,
);

const tallies = new Map<string, Tally>(names.map((n) => [n, emptyTally(n)]));
const found: Record<Kind, number> = { crash: 0, hang: 0, exception: 0, coercion: 0, wrong: 0 };
const stop = new AbortController();
let done = 0;
const t0 = Date.now();
const cache = mkdtempSync(join(tmpdir(), 'recsys-fuzz-campaign-'));

let interrupts = 0;
process.on('exit', killWorkers);
const onSignal = () => {
  if (++interrupts > 1) process.exit(130);
  console.log('\ninterrupted: stopping the workers and reporting what ran (Ctrl-C again to quit at once)');
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const clock = (ms: number) => `${Math.floor(ms / 60000)}m${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}s`;
const progress = setInterval(() => {
  const ms = Date.now() - t0;
  const rate = done / (ms / 1000);
  const eta = rate > 0 ? ((total - done) / rate) * 1000 : 0;
  console.log(
    `[${clock(ms)}] ${done}/${total} cases (${((100 * done) / total).toFixed(1)}%), ${rate.toFixed(0)}/s, ETA ${clock(eta)}; ${KINDS.map((k) => `${k} ${found[k]}`).join(', ')}`,
  );
}, 10_000);

let next = 0;
async function worker(): Promise<void> {
  while (next < chunks.length && !stop.signal.aborted) {
    const [name, s, e] = chunks[next++]!;
    const t = await runRange(name, seed, s, e, {
      signal: stop.signal,
      cacheDir: cache,
      onCase: () => done++,
      onFinding: (k) => found[k]++,
    });
    addTally(tallies.get(name)!, t);
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
clearInterval(progress);
rmSync(cache, { recursive: true, force: true });
// Chunks never started count as skipped.
for (let j = next; j < chunks.length; j++) tallies.get(chunks[j]![0])!.skipped += chunks[j]![2] - chunks[j]![1];

const list = [...tallies.values()];
const ms = Date.now() - t0;
console.log(
  `\nfuzz campaign ${stop.signal.aborted ? 'interrupted' : 'finished'} after ${clock(ms)}: seed ${seed}, ${done} cases, ${(done / (ms / 1000)).toFixed(0)}/s\n`,
);
console.log(formatTable(list));
console.log('\nrefusals (a RecsysError with a known code, or an HTTP error in our shape) by target:');
for (const t of list)
  console.log(
    `  ${t.target}: ${
      Object.entries(t.refused)
        .sort((a, b) => b[1] - a[1])
        .map(([c, n]) => `${c} ${n}`)
        .join(', ') || 'none'
    }`,
  );

const distinct = distinctFindings(list.flatMap((t) => t.findings));
if (distinct.length) {
  console.log(`\n${distinct.length} distinct findings (from the first 200 of each chunk):`);
  for (const { first, count } of distinct) console.log(`${count}x ${formatFinding(first)}`);
}
if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ seed, total, done, ms, tallies: list }, null, 1));
const failures = list.reduce((a, t) => a + KINDS.reduce((b, k) => b + t.counts[k], 0), 0);
process.exit(failures || list.some((t) => t.skipped) ? 1 : 0);
