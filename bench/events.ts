// Live-recommender events benchmark (issue 15 part 1), in process: an ImplicitALS model (USERS x ITEMS x 64
// factors, 30 generated interactions per user, a short fit) served by createRecommender with an event log in a
// temporary directory. Phases:
//   1. ingest throughput: P producers each send batches of B events (await the ack, send the next) for SECONDS,
//      with durability 'group' and then 'strict': events/s, acks/s, fsyncs, ack latency p50/p99;
//   2. ack -> reflected: while 16 recommendation requests stay in flight (recommendAsync, random users), 8 producers
//      each ingest one event for a random user, and right after the ack ask that user's top-10: the time from the
//      ack to that answer (which reflects the event: its item is left out as seen, checked), p50/p99/max, and the
//      recommendation requests/s served meanwhile;
//   3. restart: reopen the service on the same log and time the replay;
//   4. over HTTP: `recsys serve --events-dir` in a child process; autocannon sends top-10 GETs (16 connections) and
//      POST /v1/events batches of 10 (8 connections) at once for SECONDS; then 300 times POST one event and GET
//      that user's list right after the 200 (fetch, one at a time): ack -> reflected over HTTP.
// Usage: npx tsx bench/events.ts [seconds=10] [users=20000] [items=20000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Dataset, IdMap, ImplicitALS, createRecommender, type RecommenderService } from '../ts/index.js';

const seconds = Number(process.argv[2] ?? 10);
const nUsers = Number(process.argv[3] ?? 20_000);
const nItems = Number(process.argv[4] ?? 20_000);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const quiet = { info() {}, warn() {}, error() {} };

let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
const per = 30;
const su = new Int32Array(nUsers * per);
const si = new Int32Array(nUsers * per);
for (let p = 0; p < su.length; p++) {
  su[p] = Math.floor(p / per);
  si[p] = Math.floor(rnd() ** 2 * nItems);
}
const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
const train = Dataset.fromCoo(new IdMap(ids(nUsers)), new IdMap(ids(nItems)), su, si, undefined, undefined, { duplicates: 'max' });
let t = performance.now();
const model = new ImplicitALS({ factors: 64, iterations: 3, seed: 1, threads: 2 }).fit(train);
console.log(
  `model: ImplicitALS ${nUsers} users x ${nItems} items x 64 factors, ${train.nnz} interactions, fitted in ${((performance.now() - t) / 1000).toFixed(1)} s; load ${load()}`,
);
const file = join(mkdtempSync(join(tmpdir(), 'recsys-bench-events-')), 'als.rsm');
model.save(file);

const pct = (xs: number[], q: number) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.floor(q * a.length))]! : NaN;
};
const open = (dir: string, durability: 'group' | 'strict') =>
  createRecommender({ model: file, watch: false, eventLoopMetrics: false, logger: quiet, events: { dir, durability } });

async function throughput(durability: 'group' | 'strict', producers: number, batch: number, secs = seconds, print = true): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-log-'));
  const svc = open(dir, durability);
  const lat: number[] = [];
  let events = 0;
  const end = performance.now() + secs * 1000;
  const producer = async () => {
    while (performance.now() < end) {
      const b = Array.from({ length: batch }, () => ({ user: Math.floor(rnd() * nUsers * 1.1), item: Math.floor(rnd() * nItems), value: 1 }));
      const t0 = performance.now();
      await svc.ingest(b);
      lat.push(performance.now() - t0);
      events += batch;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: producers }, producer));
  const el = (performance.now() - t0) / 1000;
  const st = svc.status().events!.stats;
  if (print)
    console.log(
      `ingest ${durability.padEnd(6)} ${producers} producers x ${batch} events/batch: ${Math.round(events / el)} events/s, ${Math.round(lat.length / el)} acks/s, ` +
        `${st.fsyncs} fsyncs for ${st.appends} appends, ack p50 ${pct(lat, 0.5).toFixed(2)} ms p99 ${pct(lat, 0.99).toFixed(2)} ms; load ${load()}`,
    );
  svc.close();
  rmSync(dir, { recursive: true, force: true });
}

async function reflected(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-log-'));
  const svc: RecommenderService = open(dir, 'group');
  const end = performance.now() + seconds * 1000;
  let served = 0;
  const reader = async () => {
    while (performance.now() < end) {
      await svc.recommendAsync(Math.floor(rnd() * nUsers), { k: 10 });
      served++;
    }
  };
  const gaps: number[] = [];
  let wrong = 0;
  const writer = async () => {
    while (performance.now() < end) {
      const user = Math.floor(rnd() * nUsers);
      // An item the user's current list holds: after the event it must be gone (left out as seen).
      const top = (await svc.recommendAsync(user, { k: 10 })).items[0]!.item;
      await svc.ingest([{ user, item: top, value: 1 }]);
      const acked = performance.now();
      const r = await svc.recommendAsync(user, { k: 10 });
      gaps.push(performance.now() - acked);
      if (r.items.some((x) => x.item === top)) wrong++;
    }
  };
  const t0 = performance.now();
  await Promise.all([...Array.from({ length: 16 }, reader), ...Array.from({ length: 8 }, writer)]);
  const el = (performance.now() - t0) / 1000;
  console.log(
    `ack -> reflected (8 writers, 16 readers in flight): ${gaps.length} events, p50 ${pct(gaps, 0.5).toFixed(2)} ms, p99 ${pct(gaps, 0.99).toFixed(2)} ms, ` +
      `max ${Math.max(...gaps).toFixed(2)} ms, not reflected ${wrong}; ${Math.round(served / el)} other recommendation requests/s meanwhile; load ${load()}`,
  );
  svc.close();
  return dir;
}

console.log(`event logs in ${tmpdir()} (fsync per commit; what the disk does with it decides the figures)`);
await throughput('group', 16, 10, 1, false); // warm-up (JIT), not reported
await throughput('group', 16, 10);
await throughput('group', 64, 1);
await throughput('strict', 16, 10);
const dir = await reflected();
t = performance.now();
const again = open(dir, 'group');
console.log(
  `restart: replayed ${again.status().events!.logged} events (${again.status().events!.liveUsers} users) in ${(performance.now() - t).toFixed(0)} ms (model load included)`,
);
again.close();
rmSync(dir, { recursive: true, force: true });

// ---- 4. over HTTP ----
const logDir = mkdtempSync(join(tmpdir(), 'recsys-bench-log-'));
const main = fileURLToPath(new URL('../ts/cli/main.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '--model', file, '--port', '0', '--quiet', '--no-watch', '--events-dir', logDir], {
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
const json = { 'content-type': 'application/json' };
const eventBody = () =>
  JSON.stringify({ events: Array.from({ length: 10 }, () => ({ user: Math.floor(rnd() * nUsers * 1.1), item: Math.floor(rnd() * nItems) })) });
const gets = autocannon({
  url,
  connections: 16,
  duration: seconds,
  requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/users/${Math.floor(rnd() * nUsers)}/recommendations?k=10` }) }],
});
const posts = autocannon({
  url,
  connections: 8,
  duration: seconds,
  requests: [{ method: 'POST', path: '/v1/events', headers: json, setupRequest: (req) => ({ ...req, body: eventBody() }) }],
});
const [g, p] = await Promise.all([gets, posts]);
console.log(
  `HTTP: top-10 GETs ${Math.round(g.requests.average)} req/s (p99 ${g.latency.p99} ms, failed ${g.errors + g.timeouts + g.non2xx}) while ` +
    `POST /v1/events ingested ${Math.round(p.requests.average * 10)} events/s (${Math.round(p.requests.average)} req/s of 10, p99 ${p.latency.p99} ms, failed ${p.errors + p.timeouts + p.non2xx}); load ${load()}`,
);
const httpGaps: number[] = [];
let httpWrong = 0;
for (let n = 0; n < 300; n++) {
  const user = Math.floor(rnd() * nUsers);
  const top = ((await (await fetch(`${url}/v1/users/${user}/recommendations?k=10`)).json()) as { items: { item: number }[] }).items[0]!.item;
  const ack = await fetch(`${url}/v1/events`, { method: 'POST', headers: json, body: JSON.stringify({ events: [{ user, item: top }] }) });
  if (ack.status !== 200) throw new Error(`POST /v1/events: ${ack.status}`);
  await ack.arrayBuffer();
  const t0 = performance.now();
  const r = (await (await fetch(`${url}/v1/users/${user}/recommendations?k=10`)).json()) as { items: { item: number }[] };
  httpGaps.push(performance.now() - t0);
  if (r.items.some((x) => x.item === top)) httpWrong++;
}
console.log(
  `HTTP ack -> reflected (the GET right after the 200): p50 ${pct(httpGaps, 0.5).toFixed(2)} ms, p99 ${pct(httpGaps, 0.99).toFixed(2)} ms, not reflected ${httpWrong}; load ${load()}`,
);
child.kill('SIGTERM');
await new Promise((res) => child.on('exit', res));
rmSync(logDir, { recursive: true, force: true });
rmSync(dirname(file), { recursive: true, force: true });
