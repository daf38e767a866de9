// The server under hostile clients, on 127.0.0.1 only, every loop bounded in count and time: slow clients
// (slowloris), 10 MB bodies, malformed requests, and model reloads while all of that goes on. Honest clients,
// each on a fresh connection, must be answered every time. The standalone `recsys serve` runs in a child process
// under `ulimit -n 512`, as a service on a small descriptor limit would.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelInfo } from '../../ts/index.js';
import { factorModel, tempDir } from '../io/helpers.js';
import { popularity, server } from './fixtures.js';

const tmp = tempDir('recsys-robust-');
afterAll(() => tmp.remove());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request on a connection of its own (a new client), failing after timeoutMs. */
function send(
  port: number,
  path: string,
  o: { method?: string; body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', agent: false, headers: o.headers, timeout: o.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The raw bytes a server answers to `bytes` on a fresh socket (until it closes, or after waitMs). */
function raw(port: number, bytes: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => s.destroy(), waitMs);
    s.on('data', (d) => (out += d.toString()));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.write(bytes);
  });
}

/** Honest clients in a loop until stop(): every answer must be a 200 with the expected body. */
function honestClients(port: number, n: number, path: string, check: (a: Answer) => boolean) {
  let stopped = false;
  const failures: string[] = [];
  const latencies: number[] = [];
  const loops = Array.from({ length: n }, async () => {
    while (!stopped) {
      const t0 = performance.now();
      try {
        const a = await send(port, path);
        if (a.status !== 200 || !check(a)) failures.push(`${a.status} ${a.body.slice(0, 120)}`);
        else latencies.push(performance.now() - t0);
      } catch (err) {
        failures.push((err as Error).message);
      }
      await sleep(5);
    }
  });
  return {
    failures,
    latencies,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/**
 * Slowloris: opens `total` sockets at `perSecond` (catching up when the machine is slow; at most 10 s), each
 * sending a request line and then one header byte every 250 ms, never finishing its headers. Returns how many it
 * opened and how many the server closed.
 */
async function slowloris(port: number, perSecond: number, total: number): Promise<{ opened: number; closedByServer: number; peakOpen: number }> {
  const open = new Set<Socket>();
  let opened = 0,
    closedByServer = 0,
    peakOpen = 0;
  const trickle = setInterval(() => {
    for (const s of open) s.write('x');
  }, 250);
  const t0 = Date.now();
  while (opened < total && Date.now() - t0 < 10_000) {
    const due = Math.min(total, Math.ceil(((Date.now() - t0 + 50) / 1000) * perSecond));
    while (opened < due) {
      const s = connect(port, '127.0.0.1');
      opened++;
      s.on('error', () => {});
      s.on('close', () => {
        if (open.delete(s)) closedByServer++;
      });
      s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      open.add(s);
    }
    peakOpen = Math.max(peakOpen, open.size);
    await sleep(50);
  }
  await sleep(250);
  clearInterval(trickle);
  for (const s of [...open]) {
    open.delete(s);
    s.destroy();
  }
  return { opened, closedByServer, peakOpen };
}

const ERROR_SHAPE = /^\{"error":\{"code":"E_[A-Z_]+","message":"[^"]+"\}\}$/;

describe('recsys serve under hostile clients (child process, ulimit -n 512)', () => {
  const main = fileURLToPath(new URL('../../ts/cli/main.ts', import.meta.url));
  let child: ChildProcess | undefined;
  afterAll(() => void child?.kill('SIGKILL'));

  it('keeps answering honest clients through slowloris, 10 MB bodies, a malformed flood and reloads', async () => {
    const A = factorModel(200, 1000, 16, 1);
    const B = factorModel(200, 1000, 16, 2);
    const path = tmp.path('robust.rsm');
    A.save(path);
    const args = [
      '--import',
      'tsx',
      main,
      'serve',
      '--model',
      path,
      '--port',
      '0',
      '--no-watch',
      '--quiet',
      '--headers-timeout',
      '500',
      '--request-timeout',
      '2000',
    ];
    child = spawn('sh', ['-c', 'ulimit -n 512 && exec "$0" "$@"', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    while (!/at most \d+ connections/.test(stderr)) {
      if (Date.now() - started > 20000 || child.exitCode !== null) throw new Error(`server did not start: ${stderr}`);
      await sleep(20);
    }
    const port = Number(/at http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
    expect(stderr).toMatch(/at most 448 connections; headers within 500 ms/);
    const want = new Map([A, B].map((m) => [JSON.stringify(m.recommend('user-3', { k: 5 }).map((r) => r.item)), m]));
    const honest = honestClients(port, 4, '/v1/users/user-3/recommendations?k=5', (a) =>
      want.has(JSON.stringify((JSON.parse(a.body) as { items: { item: string }[] }).items.map((r) => r.item))),
    );

    // 1. Slowloris: 400 new trickling sockets a second for 3 s (1,200 in all). Without a headers timeout they
    //    pile up past the descriptor limit and the server drops every new connection (EMFILE).
    const attack = await slowloris(port, 400, 1200);
    expect(attack.opened).toBe(1200);
    expect(attack.closedByServer).toBeGreaterThan(attack.opened / 2);

    // 2. 10 MB bodies, a few at once: refused with 413 in our shape.
    const big = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const bigs = await Promise.all(
      Array.from({ length: 4 }, () =>
        send(port, '/v1/recommendations', { method: 'POST', body: big, headers: { 'content-type': 'application/json' }, timeoutMs: 10000 }).catch(
          (e: Error) => ({ status: 0, body: e.message, headers: {} }),
        ),
      ),
    );
    for (const b of bigs) if (b.status !== 0) expect(b, b.body).toMatchObject({ status: 413, body: expect.stringMatching(/"code":"E_TOO_LARGE"/) });
    expect(bigs.some((b) => b.status === 413)).toBe(true);

    // 3. A malformed flood, with a model reload (SIGHUP) in the middle of it: every answer is a 4xx in our shape.
    const malformed: (string | Buffer)[] = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
      'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"items":',
      'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/xml\r\nContent-Length: 7\r\n\r\n<items>',
      'GET /v1/users/%zz/recommendations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]),
    ];
    const seen = new Set<string>();
    const floodEnd = Date.now() + 2500;
    let sent = 0;
    let reloaded = false;
    while (Date.now() < floodEnd) {
      if (!reloaded && Date.now() > floodEnd - 1500) {
        B.save(path);
        child.kill('SIGHUP');
        reloaded = true;
      }
      const answers = await Promise.all(malformed.map((m) => raw(port, m)));
      sent += answers.length;
      for (const a of answers) {
        const status = /^HTTP\/1\.1 (\d{3})/.exec(a)?.[1];
        expect(status, a.slice(0, 200)).toMatch(/^4\d\d$/);
        expect(a.slice(a.indexOf('\r\n\r\n') + 4)).toMatch(ERROR_SHAPE);
        seen.add(status!);
      }
    }
    expect([...seen].sort()).toEqual(['400', '404', '415', '431']);
    expect(sent).toBeGreaterThan(40);

    await honest.stop();
    // The reload happened and honest clients saw both models, never a failure.
    const status = JSON.parse((await send(port, '/v1/status')).body) as { model: { checksum: string } };
    expect(status.model.checksum).toBe(readModelInfo(path).checksum);
    expect(honest.failures).toEqual([]);
    expect(honest.latencies.length).toBeGreaterThan(20);
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }, 60000);
});

describe('connection limits (in process)', () => {
  it('answers a client too slow with its headers with 408 in our shape, and closes it', async () => {
    const s = await server({ model: popularity(), headersTimeout: 300, requestTimeout: 1000 });
    const port = Number(new URL(await s.listen({ port: 0 })).port);
    const t0 = Date.now();
    const a = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(a).toMatch(/^HTTP\/1\.1 408 /);
    expect(a.slice(a.indexOf('\r\n\r\n') + 4)).toBe('{"error":{"code":"E_TIMEOUT","message":"the request was not received in time"}}');
    // A body that never finishes: the request timeout.
    const b = await raw(port, 'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"items":', 5000);
    expect(b).toMatch(/^HTTP\/1\.1 408 /);
    expect(b).toMatch(/"code":"E_TIMEOUT"/);
    // The request cut by the timeout is not left counted as in flight (close() would wait 30 s for it).
    const t1 = Date.now();
    await s.close();
    expect(Date.now() - t1).toBeLessThan(1000);
  });

  it('past maxConnections, a new client replaces the oldest idle or slow one; with every slot busy it is refused', async () => {
    const s = await server({ model: popularity(), maxConnections: 20, requestTimeout: 5000 });
    expect(s.limits.maxConnections).toBe(20);
    const port = Number(new URL(await s.listen({ port: 0 })).port);
    const open = async (n: number, first: string) => {
      const out: { socket: Socket; closed: boolean }[] = [];
      for (let j = 0; j < n; j++) {
        const e = { socket: connect(port, '127.0.0.1'), closed: false };
        e.socket.on('error', () => {});
        e.socket.on('close', () => (e.closed = true));
        e.socket.write(first);
        out.push(e);
        await sleep(5);
      }
      return out;
    };
    // 30 slow clients (headers never finished): the 10 oldest make room for the 10 newest.
    const slow = await open(30, 'GET /healthz HTTP/1.1\r\nX-Slow: ');
    await sleep(100);
    expect(slow.map((e) => e.closed)).toEqual([...Array(10).fill(true), ...Array(20).fill(false)]);
    // An honest client is served while slow ones hold every slot (the oldest slow one goes).
    expect((await send(port, '/healthz')).status).toBe(200);
    expect(slow.filter((e) => !e.closed).length).toBeLessThanOrEqual(19);
    for (const e of slow) e.socket.destroy();
    await sleep(50);
    // 20 requests in progress (bodies pending): a 21st connection is closed at once, none of the 20 is.
    const busy = await open(20, 'POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    await sleep(100);
    const extra = await open(1, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    expect(extra[0]!.closed).toBe(true);
    expect(busy.some((e) => e.closed)).toBe(false);
    for (const e of busy) e.socket.destroy();
    await sleep(50);
    expect((await send(port, '/healthz')).status).toBe(200);
    await s.close();
  });

  it('checks its options and derives the default cap from the descriptor limit', async () => {
    const { connectionLimits, defaultMaxConnections, fdLimit } = await import('../../ts/serve/limits.js');
    expect(defaultMaxConnections(1024)).toBe(921);
    expect(defaultMaxConnections(512)).toBe(448);
    expect(defaultMaxConnections(100)).toBe(36);
    expect(connectionLimits({}).maxConnections).toBe(defaultMaxConnections(fdLimit()));
    expect(connectionLimits({})).toMatchObject({ headersTimeout: 10000, requestTimeout: 30000, keepAliveTimeout: 72000, connectionTimeout: 60000 });
    for (const bad of [
      { headersTimeout: 0 },
      { requestTimeout: 1.5 },
      { keepAliveTimeout: -1 },
      { maxConnections: 0 },
      { headersTimeout: 5000, requestTimeout: 1000 },
      { connectionTimeout: 'x' },
    ]) {
      await expect(server({ model: popularity(), ...(bad as object) })).rejects.toMatchObject({ code: 'E_ARG' });
    }
  });

  it('refuses requests in our shape while shutting down', async () => {
    const s = await server({ model: popularity() });
    const port = Number(new URL(await s.listen({ port: 0 })).port);
    // A keep-alive connection opened before close() sends its next request during it.
    const sock = connect(port, '127.0.0.1');
    let text = '';
    sock.on('data', (d) => (text += d.toString()));
    sock.on('error', () => {});
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    while (!text.includes('{"status":"ok"}')) await sleep(5);
    const closing = s.close();
    await sleep(20);
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await closing;
    await sleep(20);
    sock.destroy();
    // Either the connection was closed before the second request, or it got a 503 in our shape.
    const second = text.split('HTTP/1.1 ').slice(2)[0];
    if (second !== undefined) {
      expect(second).toMatch(/^503 /);
      expect(second).toMatch(/"code":"E_UNAVAILABLE"/);
    }
  });
});
