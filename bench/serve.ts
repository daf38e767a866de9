// HTTP serving benchmark (issue #6 targets): an ImplicitALS model of 20k users x 20k items x 64 factors fitted on
// generated interactions (50 per user, left out of every answer; random vectors when the build has no ImplicitALS) behind `recsys serve` in a child process on 127.0.0.1, loaded by autocannon from
// this process. Phases (each bounded; everything stops by itself):
//   1. warm-up;
//   2. top-10 requests for random users for SECONDS (default 60): requests/s, latency percentiles, failed
//      requests, and the server's resident memory sampled every second;
//   3. a flood of malformed requests for SECONDS, then a check that the server still answers correctly.
// Targets: >= 5,000 requests/s at p99 <= 20 ms, zero failed requests, flat memory, still serving after the flood.
// Usage: npx tsx bench/serve.ts [seconds] [connections]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Dataset, FactorModel, info, models, type Recommender } from '../ts/index.js';

const seconds = Number(process.argv[2] ?? 60);
const connections = Number(process.argv[3] ?? 16);
const nUsers = 20_000,
  nItems = 20_000,
  f = 64,
  seenPerUser = 50;

// ---- the model ----
let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
const users = Array.from({ length: nUsers }, (_, u) => u);
const items = Array.from({ length: nItems }, (_, i) => i);
const su = new Int32Array(nUsers * seenPerUser),
  si = new Int32Array(nUsers * seenPerUser);
for (let p = 0; p < su.length; p++) {
  su[p] = Math.floor(p / seenPerUser);
  si[p] = Math.floor(rnd() ** 2 * nItems); // popular items seen more often
}
const { IdMap } = await import('../ts/index.js');
const seen = Dataset.fromCoo(new IdMap(users), new IdMap(items), su, si, undefined, undefined, { duplicates: 'max' });
let model: Recommender;
const als = models.find((m) => m.name === 'ImplicitALS');
if (als) {
  // An ImplicitALS fitted on these generated interactions (10 iterations keep the set-up short).
  const t = performance.now();
  model = await als.create({ factors: f, iterations: 10, threads: 0 }).fitAsync(seen);
  console.log(`ImplicitALS (${f} factors, 10 iterations) fitted on ${seen.nnz} generated interactions in ${((performance.now() - t) / 1000).toFixed(1)} s`);
} else {
  console.log('ImplicitALS is not in this build: serving a FactorModel of random vectors (FactorModel.fromFactors) of the same shape');
  const U = new Float32Array(nUsers * f).map(() => rnd() * 0.2 - 0.1);
  const V = new Float32Array(nItems * f).map(() => rnd() * 0.2 - 0.1);
  model = FactorModel.fromFactors({ users: seen.users, items: seen.items, factors: f, userFactors: U, itemFactors: V, seen });
}
const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-serve-'));
const path = join(dir, 'model.rsm');
model.save(path);

// ---- the server: recsys serve in a child process ----
const main = fileURLToPath(new URL('../ts/cli/main.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '--model', path, '--host', '127.0.0.1', '--port', '0', '--quiet', '--no-watch'], {
  stdio: ['ignore', 'inherit', 'pipe'],
});
let stderr = '';
child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
const started = Date.now();
while (!/at (http:\/\/127\.0\.0\.1:\d+)/.test(stderr)) {
  if (Date.now() - started > 60_000 || child.exitCode !== null) throw new Error(`server did not start: ${stderr}`);
  await new Promise((r) => setTimeout(r, 50));
}
const url = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!;
if (!url.startsWith('http://127.0.0.1:')) throw new Error('the benchmark only talks to loopback');

function rssMiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

type Result = autocannon.Result;
async function load(title: string, duration: number, requests: autocannon.Request[], sample?: number[]): Promise<Result> {
  const timer = sample ? setInterval(() => sample.push(rssMiB()), 1000) : undefined;
  try {
    return await autocannon({ url, connections, duration, requests, title });
  } finally {
    if (timer) clearInterval(timer);
  }
}

const topK: autocannon.Request[] = [
  {
    method: 'GET',
    setupRequest: (req) => ({ ...req, path: `/v1/users/${Math.floor(rnd() * nUsers)}/recommendations?k=10` }),
  },
];

// ---- 1. warm-up, 2. top-10 load ----
await load('warm-up', Math.min(5, seconds), topK);
const rssBefore = rssMiB();
const rss: number[] = [];
const r = await load('top-10', seconds, topK, rss);
const failed = r.errors + r.timeouts + r.non2xx;

// ---- 3. malformed flood ----
const long = 'x'.repeat(600);
const bigBody = JSON.stringify({ items: [1], pad: 'y'.repeat(1_200_000) });
const deep = '['.repeat(5000) + ']'.repeat(5000);
const bad: autocannon.Request[] = [
  { method: 'GET', path: '/v1/users/1/recommendations?k=abc' },
  { method: 'GET', path: '/v1/users/1/recommendations?k=100000' },
  { method: 'GET', path: `/v1/users/${long}/recommendations` },
  { method: 'GET', path: '/v1/users/%E0%A4%A/recommendations' },
  { method: 'GET', path: '/v1/users/no-such-user/recommendations' },
  { method: 'GET', path: '/v1/items/-1/similar?k=0' },
  { method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'application/json' }, body: '{"items": [1,' },
  { method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'application/json' }, body: deep },
  { method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'application/json' }, body: '{"items":[1],"__proto__":{"polluted":true}}' },
  { method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'text/xml' }, body: '<items/>' },
  { method: 'POST', path: '/v1/recommendations/batch', headers: { 'content-type': 'application/json' }, body: '{"users":"x"}' },
  {
    method: 'POST',
    path: '/v1/recommendations/batch',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ users: Array.from({ length: 2000 }, (_, i) => i) }),
  },
  { method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'application/json' }, body: bigBody },
  { method: 'DELETE', path: '/v1/users/1/recommendations' },
  { method: 'GET', path: '/nope/../../etc/passwd' },
  { method: 'GET', path: '/v1/users/1/recommendations', headers: { 'x-big': 'z'.repeat(20_000) } },
];
const rssFloodStart = rssMiB();
const rssFlood: number[] = [];
const fl = await load('malformed flood', seconds, bad, rssFlood);
const health = await fetch(`${url}/healthz`);
const check = await fetch(`${url}/v1/users/7/recommendations?k=10`);
const checkBody = (await check.json()) as { items: { item: number }[] };
const expected = model.recommend(7, { k: 10 }).map((x) => x.item);
const stillServing = health.status === 200 && check.status === 200 && JSON.stringify(checkBody.items.map((x) => x.item)) === JSON.stringify(expected);
const rssAfterFlood = rssMiB();

child.kill('SIGTERM');
await new Promise((res) => child.on('exit', res));
rmSync(dir, { recursive: true, force: true });

// ---- report ----
const mid = rss.slice(Math.floor(rss.length / 6));
const i = info();
console.log(`\nrecsys ${i.version}, BLAS ${i.blas}, ${i.defaultThreads} hardware threads shared by the server (one event loop) and autocannon`);
console.log(
  `model: ${model.name}, ${nUsers} users x ${nItems} items x ${f} factors, ${seen.nnz} seen interactions filtered; ${connections} connections, loopback`,
);
console.log(
  `top-10 for ${seconds} s: ${r.requests.average.toFixed(0)} requests/s (total ${r.requests.total}); latency p50 ${r.latency.p50} ms, p90 ${r.latency.p90} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms`,
);
console.log(`failed requests: ${failed} (errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx})`);
console.log(
  `server RSS: ${rssBefore.toFixed(0)} MiB after warm-up; during the run min ${Math.min(...mid).toFixed(0)} / max ${Math.max(...mid).toFixed(0)} MiB after the first sixth; ${rss[rss.length - 1]!.toFixed(0)} MiB at the end`,
);
console.log(
  `malformed flood for ${seconds} s: ${fl.requests.total} requests (${fl.requests.average.toFixed(0)}/s), ${fl.non2xx} answered 4xx/5xx, ${fl.errors} connection errors; RSS ${rssFloodStart.toFixed(0)} -> max ${Math.max(...rssFlood).toFixed(0)} -> ${rssAfterFlood.toFixed(0)} MiB`,
);
console.log(`after the flood: /healthz ${health.status}, top-10 ${check.status} ${stillServing ? 'correct' : 'WRONG'}`);
const pass = r.requests.average >= 5000 && r.latency.p99 <= 20 && failed === 0 && stillServing;
console.log(`targets (>= 5000 req/s, p99 <= 20 ms, 0 failed, serving after the flood): ${pass ? 'met' : 'NOT met'}`);
