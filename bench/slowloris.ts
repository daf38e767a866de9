// Slow-client (slowloris) benchmark of `recsys serve` (issue 12, item 2), on 127.0.0.1 only and bounded in time:
// the server runs in a child process under `ulimit -n FDS` (default 1024) with its default limits; an attacker in
// this process holds SOCKETS connections (default 1,000), each sending a request line and then one header byte every
// TRICKLE_MS (default 10 s), and opens a new one whenever the server closes one; meanwhile CLIENTS honest clients
// (default 8) send top-10 requests, each on a fresh connection, for SECONDS (default 30). Prints how many honest
// requests succeeded and failed, their p50/p99 latency, and how many attack sockets the server closed.
// Usage: npx tsx bench/slowloris.ts [seconds] [sockets] [clients]
// RECSYS_CLI=path/to/ts/cli/main.ts runs another checkout's server (for a before/after comparison);
// FDS=n sets the descriptor limit, TRICKLE_MS the attacker's pace.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FactorModel, IdMap } from '../ts/index.js';

const seconds = Number(process.argv[2] ?? 30);
const holdSockets = Number(process.argv[3] ?? 1000);
const clients = Number(process.argv[4] ?? 8);
const fds = Number(process.env.FDS ?? 1024);
const trickleMs = Number(process.env.TRICKLE_MS ?? 10_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A 5k x 5k x 32 factor model of random vectors: the attack, not the scoring, is measured.
let s = 7;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
const n = 5000,
  f = 32;
const model = FactorModel.fromFactors({
  users: new IdMap(Array.from({ length: n }, (_, u) => u)),
  items: new IdMap(Array.from({ length: n }, (_, i) => i)),
  factors: f,
  userFactors: new Float32Array(n * f).map(() => rnd() - 0.5),
  itemFactors: new Float32Array(n * f).map(() => rnd() - 0.5),
});
const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-slowloris-'));
const path = join(dir, 'model.rsm');
model.save(path);

const main = process.env.RECSYS_CLI ?? fileURLToPath(new URL('../ts/cli/main.ts', import.meta.url));
const child = spawn(
  'sh',
  ['-c', `ulimit -n ${fds} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', main, 'serve', '--model', path, '--port', '0', '--quiet', '--no-watch'],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
let stderr = '';
child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
const started = Date.now();
while (!/at http:\/\/127\.0\.0\.1:(\d+)/.test(stderr)) {
  if (Date.now() - started > 60_000 || child.exitCode !== null) throw new Error(`server did not start: ${stderr}`);
  await sleep(20);
}
const port = Number(/at http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
console.log(
  stderr
    .trim()
    .split('\n')
    .map((l) => `server: ${l}`)
    .join('\n'),
);

function honestRequest(user: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/v1/users/${user}/recommendations?k=10`, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out (5 s)')));
    req.on('error', reject);
    req.end();
  });
}

// ---- the attacker ----
const open = new Set<Socket>();
let attacking = true,
  opened = 0,
  closedByServer = 0;
function attackSocket(): void {
  if (!attacking) return;
  const sock = connect(port, '127.0.0.1');
  opened++;
  sock.on('error', () => {});
  sock.on('close', () => {
    if (open.delete(sock)) {
      closedByServer++;
      setImmediate(attackSocket); // reconnect at once
    }
  });
  sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  open.add(sock);
}
const trickle = setInterval(() => {
  for (const sk of open) sk.write('x');
}, trickleMs);
for (let j = 0; j < holdSockets; j++) {
  attackSocket();
  if (j % 100 === 99) await sleep(10);
}
await sleep(1000);
console.log(`attack: ${open.size} slow sockets open after ramp-up`);

// ---- honest clients ----
const latencies: number[] = [];
const failures = new Map<string, number>();
const end = Date.now() + seconds * 1000;
await Promise.all(
  Array.from({ length: clients }, async (_, c) => {
    for (let k = 0; Date.now() < end; k++) {
      const t0 = performance.now();
      try {
        const status = await honestRequest((c * 997 + k) % n);
        if (status === 200) latencies.push(performance.now() - t0);
        else failures.set(`HTTP ${status}`, (failures.get(`HTTP ${status}`) ?? 0) + 1);
      } catch (err) {
        const m = (err as Error).message;
        failures.set(m, (failures.get(m) ?? 0) + 1);
        await sleep(10);
      }
    }
  }),
);
attacking = false;
clearInterval(trickle);
const stillOpen = open.size;
for (const sk of [...open]) {
  open.delete(sk);
  sk.destroy();
}
child.kill('SIGKILL');
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const q = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1) : '-');
const failed = [...failures.values()].reduce((a, b) => a + b, 0);
console.log(
  `slowloris: ${holdSockets} sockets held (a header byte every ${trickleMs / 1000} s, reconnecting), ulimit -n ${fds}, ${seconds} s, ${clients} honest clients on fresh connections`,
);
console.log(
  `honest requests: ${latencies.length} succeeded, ${failed} failed${failed ? ` (${[...failures].map(([m, c]) => `${c}x ${m}`).join(', ')})` : ''}; latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`,
);
console.log(`attack sockets: ${opened} opened, ${closedByServer} closed by the server, ${stillOpen} open at the end`);
