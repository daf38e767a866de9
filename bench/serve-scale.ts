// The HTTP server on a million-item catalogue (issue 15 parts 1 and 4): `recsys serve` in a child process on
// 127.0.0.1 with a FactorModel of USERS users x ITEMS items x F factors (planted factors as bench/ann.ts: users and
// items around 256 topic centres, item norms spread like popularity; 20 seen items per user, left out of every
// answer; least-squares fold-in as implicit ALS), loaded by autocannon from this process on the same cores.
//   1. for ann 'hnsw' and 'exact' (the same factors; two model files): REPEAT runs of SECONDS of top-10 GETs for
//      random known users: requests/s, latency p50 / p99, failed requests; medians over the runs;
//   2. with --events-dir (durability 'group'): top-10 GETs (autocannon) + POST /v1/events batches of 10
//      (autocannon) + a probe that, one at a time, POSTs one event for a random user (an item of that user's
//      current top 10) and GETs that user's top 10 right after the 200: events/s ingested, the GETs served
//      meanwhile, and ack -> reflected p50 / p99 (the event's item must be gone from the list).
// The model files are built once and kept (HNSW at 1M items takes minutes): /tmp/recsys-serve-scale-*.rsm.
//
//   npm run bench:serve-scale [-- --items 1000000 --users 100000 --factors 64 --seconds 20 --repeat 3
//                              --connections 16 --event-connections 4 --event-rate 0 --modes hnsw,exact --events true]
// --event-rate R caps the event client at R POSTs/s (10 events each; 0 = as fast as it can), to find how many events
// per second the server takes while it still serves a given GET rate. Results of modes and phases not run this time
// are kept from the existing results file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Dataset, FactorModel, IdMap, info } from '../ts/index.js';
import { listOption, median, parseOptions, RESULTS_DIR } from './common.js';

const { opts } = parseOptions();
const nItems = Number(opts.get('items') ?? 1_000_000);
const nUsers = Number(opts.get('users') ?? 100_000);
const f = Number(opts.get('factors') ?? 64);
const seconds = Number(opts.get('seconds') ?? 20);
const repeat = Number(opts.get('repeat') ?? 3);
const connections = Number(opts.get('connections') ?? 16);
const eventConnections = Number(opts.get('event-connections') ?? 4);
const eventRate = Number(opts.get('event-rate') ?? 0);
const modes = listOption(opts.get('modes')) ?? ['hnsw', 'exact'];
const withEvents = opts.get('events') !== 'false';
const threads = Number(opts.get('threads') ?? 2);
const seenPerUser = 20;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)} load ${load()}] ${s}`);

let seed = 12345 + nItems;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
const pct = (xs: number[], q: number) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.floor(q * a.length))]! : NaN;
};

// ---- the model files (built once, reused) ----
const base = join(tmpdir(), `recsys-serve-scale-${nUsers}u-${nItems}i-${f}f`);
const file = (mode: string) => `${base}-${mode}.rsm`;
if (!modes.every((m) => existsSync(file(m)))) {
  const centres = Float32Array.from({ length: 256 * f }, gauss);
  const draw = (n: number, scale: boolean) => {
    const out = new Float32Array(n * f);
    for (let i = 0; i < n; i++) {
      const s = scale ? Math.exp(0.5 * gauss()) : 1;
      const c = Math.floor(rnd() * 256);
      // 0.1 x: vectors of the size an implicit ALS fits, so fold-in's regularization is in proportion.
      for (let d = 0; d < f; d++) out[i * f + d] = 0.1 * s * (centres[c * f + d]! + 0.7 * gauss());
    }
    return out;
  };
  const U = draw(nUsers, false),
    V = draw(nItems, true);
  const users = new IdMap(Array.from({ length: nUsers }, (_, u) => u));
  const items = new IdMap(Array.from({ length: nItems }, (_, i) => i));
  const su = new Int32Array(nUsers * seenPerUser),
    si = new Int32Array(nUsers * seenPerUser);
  for (let p = 0; p < su.length; p++) {
    su[p] = Math.floor(p / seenPerUser);
    si[p] = Math.floor(rnd() ** 2 * nItems);
  }
  const seen = Dataset.fromCoo(users, items, su, si, undefined, undefined, { duplicates: 'max' });
  for (const mode of modes) {
    if (existsSync(file(mode))) continue;
    const t = performance.now();
    const m = FactorModel.fromFactors({
      users,
      items,
      factors: f,
      userFactors: U,
      itemFactors: V,
      seen,
      threads,
      foldIn: { implicit: true, alpha: 1, reg: 0.1, scaleReg: false },
      annOptions: mode === 'hnsw' ? { ann: 'hnsw', annM: 16, annEfConstruction: 100, annEfSearch: 100 } : { ann: 'exact' },
    });
    const built = (performance.now() - t) / 1000;
    m.save(file(mode));
    log(`${mode}: built in ${built.toFixed(1)} s (${threads} threads), saved ${(statSync(file(mode)).size / 2 ** 20).toFixed(0)} MiB to ${file(mode)}`);
  }
}

// ---- the server ----
const main = fileURLToPath(new URL('../ts/cli/main.ts', import.meta.url));
async function serve(mode: string, extra: string[] = []): Promise<{ child: ChildProcess; url: string; startS: number }> {
  const t = performance.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', main, 'serve', '--model', file(mode), '--host', '127.0.0.1', '--port', '0', '--quiet', '--no-watch', ...extra],
    {
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const started = Date.now();
  while (!/at (http:\/\/127\.0\.0\.1:\d+)/.test(stderr)) {
    if (Date.now() - started > 300_000 || child.exitCode !== null) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!, startS: (performance.now() - t) / 1000 };
}
async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((res) => child.on('exit', res));
}
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const topK = (): autocannon.Request[] => [
  { method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/users/${Math.floor(rnd() * nUsers)}/recommendations?k=10` }) },
];
const failed = (r: autocannon.Result) => r.errors + r.timeouts + r.non2xx;

interface Run {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  load: string;
}
const resultsFile = join(RESULTS_DIR, 'serve-scale.json');
const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>) : {};
const sameSetup = previous.items === nItems && previous.users === nUsers && previous.factors === f;
const results: Record<string, unknown> = {
  ...(sameSetup ? previous : {}),
  items: nItems,
  users: nUsers,
  factors: f,
  seconds,
  connections,
  runs: { ...(sameSetup && typeof previous.runs === 'object' ? previous.runs : {}) },
};

// ---- 1. top-10 load, per mode ----
for (const mode of modes) {
  const { child, url, startS } = await serve(mode);
  log(`${mode}: server up in ${startS.toFixed(1)} s (model load), RSS ${rssMiB(child.pid!).toFixed(0)} MiB`);
  await autocannon({ url, connections, duration: 5, requests: topK() }); // warm-up
  const runs: Run[] = [];
  for (let n = 0; n < repeat; n++) {
    const r = await autocannon({ url, connections, duration: seconds, requests: topK() });
    runs.push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: failed(r), load: load() });
    log(`${mode} run ${n + 1}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, failed ${failed(r)}`);
  }
  (results.runs as Record<string, Run[]>)[mode] = runs;
  log(
    `${mode} median of ${repeat}: ${median(runs.map((r) => r.rps)).toFixed(0)} req/s, p50 ${median(runs.map((r) => r.p50))} ms, p99 ${median(runs.map((r) => r.p99))} ms; server RSS ${rssMiB(child.pid!).toFixed(0)} MiB`,
  );
  await stop(child);
}

// ---- 2. events while serving ----
if (withEvents) {
  const mode = modes[0]!;
  const logDir = mkdtempSync(join(tmpdir(), 'recsys-bench-log-'));
  const { child, url } = await serve(mode, ['--events-dir', logDir, '--durability', 'group']);
  const json = { 'content-type': 'application/json' };
  const eventBody = () =>
    JSON.stringify({ events: Array.from({ length: 10 }, () => ({ user: Math.floor(rnd() * nUsers * 1.05), item: Math.floor(rnd() * nItems) })) });
  // Warm-up; the first fold-in builds V^T V over the catalogue once (seconds at 1M items), not timed.
  await fetch(`${url}/v1/events`, { method: 'POST', headers: json, body: JSON.stringify({ events: [{ user: 0, item: 1 }] }) });
  await (await fetch(`${url}/v1/users/0/recommendations?k=10`)).arrayBuffer();
  await autocannon({ url, connections, duration: 5, requests: topK() });
  const evRuns: Record<string, number | string>[] = [];
  for (let n = 0; n < repeat; n++) {
    let stopProbe = false;
    const gaps: number[] = [];
    let wrong = 0;
    const probe = async () => {
      while (!stopProbe) {
        const user = Math.floor(rnd() * nUsers);
        const before = (await (await fetch(`${url}/v1/users/${user}/recommendations?k=10`)).json()) as { items: { item: number }[] };
        const top = before.items[0]!.item;
        const ack = await fetch(`${url}/v1/events`, { method: 'POST', headers: json, body: JSON.stringify({ events: [{ user, item: top }] }) });
        if (ack.status !== 200) throw new Error(`POST /v1/events: ${ack.status}`);
        await ack.arrayBuffer();
        const t0 = performance.now();
        const after = (await (await fetch(`${url}/v1/users/${user}/recommendations?k=10`)).json()) as { items: { item: number }[] };
        gaps.push(performance.now() - t0);
        if (after.items.some((x) => x.item === top)) wrong++;
      }
    };
    const probing = probe();
    const [g, p] = await Promise.all([
      autocannon({ url, connections, duration: seconds, requests: topK() }),
      autocannon({
        url,
        connections: eventConnections,
        duration: seconds,
        ...(eventRate > 0 ? { overallRate: eventRate } : {}),
        requests: [{ method: 'POST', path: '/v1/events', headers: json, setupRequest: (req) => ({ ...req, body: eventBody() }) }],
      }),
    ]);
    stopProbe = true;
    await probing;
    const row = {
      eventRate: eventRate > 0 ? eventRate * 10 : 'max',
      getRps: Math.round(g.requests.average),
      getP50: g.latency.p50,
      getP99: g.latency.p99,
      getFailed: failed(g),
      eventsPerS: Math.round(p.requests.average * 10),
      postP99: p.latency.p99,
      postFailed: failed(p),
      probes: gaps.length,
      reflectedP50: Number(pct(gaps, 0.5).toFixed(2)),
      reflectedP99: Number(pct(gaps, 0.99).toFixed(2)),
      notReflected: wrong,
      load: load(),
    };
    evRuns.push(row);
    log(
      `events run ${n + 1}: GET ${row.getRps} req/s (p50 ${row.getP50} ms, p99 ${row.getP99} ms, failed ${row.getFailed}) while POST /v1/events ingested ${row.eventsPerS} events/s ` +
        `(batches of 10, p99 ${row.postP99} ms, failed ${row.postFailed}); ack -> reflected over ${row.probes} probes p50 ${row.reflectedP50} ms p99 ${row.reflectedP99} ms, not reflected ${wrong}`,
    );
  }
  results.events = evRuns;
  const med = (k: string) => median(evRuns.map((r) => r[k] as number));
  log(
    `events median of ${repeat}: GET ${med('getRps')} req/s p99 ${med('getP99')} ms; ${med('eventsPerS')} events/s; ack -> reflected p50 ${med('reflectedP50')} ms p99 ${med('reflectedP99')} ms`,
  );
  await stop(child);
  rmSync(logDir, { recursive: true, force: true });
}

const i = info();
results.info = { version: i.version, blas: i.blas, hardwareThreads: i.defaultThreads, node: process.version, date: new Date().toISOString(), load: load() };
writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
log(
  `recsys ${i.version}, ${i.defaultThreads} hardware threads shared by the server (one event loop) and autocannon; results in bench/results/serve-scale.json`,
);
