import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRecommender, type Recommender } from '../../ts/index.js';
import { factorModel, tempDir } from '../io/helpers.js';
import { server } from './fixtures.js';

const tmp = tempDir('recsys-reload-');
afterAll(() => tmp.remove());
const quiet = { info() {}, warn() {}, error() {} };

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('hot reload', () => {
  const A = factorModel(40, 200, 8, 1);
  const B = factorModel(40, 200, 8, 2);

  it('picks up a new file, and keeps serving the old model when the new file is bad', async () => {
    const path = tmp.path('watched.rsm');
    A.save(path);
    const warnings: string[] = [];
    const svc = createRecommender({ model: path, watchDebounceMs: 30, eventLoopMetrics: false, logger: { ...quiet, warn: (m) => void warnings.push(m) } });
    const first = svc.served.checksum;
    expect(svc.recommend('user-1').items).toEqual(A.recommend('user-1'));
    B.save(path);
    await until(() => svc.served.checksum !== first);
    expect(svc.recommend('user-1').items).toEqual(B.recommend('user-1'));
    expect(svc.metrics.reloadsOk).toBe(1);
    const second = svc.served.checksum;
    writeFileSync(path, 'this is not a model');
    await until(() => svc.metrics.reloadsFailed > 0);
    expect(svc.served.checksum).toBe(second);
    expect(svc.recommend('user-1').items).toEqual(B.recommend('user-1'));
    expect(warnings.join('\n')).toMatch(/reload failed, still serving xxh64:[0-9a-f]+: .*not a recsys model file/);
    expect(svc.status().reloads).toMatchObject({ ok: 1, failed: expect.any(Number), lastError: expect.stringMatching(/not a recsys model file/) });
    A.save(path); // a fresh save (its time of writing makes a new checksum) of the first model
    await until(() => svc.metrics.reloadsOk === 2);
    expect(svc.recommend('user-1').items).toEqual(A.recommend('user-1'));
    svc.close();
  });

  it('reload() says why nothing changed', async () => {
    const path = tmp.path('manual.rsm');
    A.save(path);
    const svc = createRecommender({ model: path, watch: false, eventLoopMetrics: false, logger: quiet });
    expect(await svc.reload()).toMatchObject({ reloaded: false, reason: 'the file has not changed' });
    B.save(path);
    expect(await svc.reload()).toMatchObject({ reloaded: true });
    writeFileSync(path, Buffer.alloc(100));
    const r = await svc.reload();
    expect(r.reloaded).toBe(false);
    expect(r.reason).toMatch(/not a recsys model file/);
    svc.close();
    const mem = createRecommender({ model: A, eventLoopMetrics: false, logger: quiet });
    expect(await mem.reload()).toMatchObject({ reloaded: false, reason: 'the model was not loaded from a file' });
    mem.close();
  });

  it('serves every request while the model file is replaced under load (no failed or mixed answers)', async () => {
    const path = tmp.path('load.rsm');
    A.save(path);
    const s = await server({ model: path, watchDebounceMs: 10 });
    const base = await s.listen({ host: '127.0.0.1', port: 0 });
    const checksums = new Map<string, Recommender>();
    checksums.set(s.recommender.served.checksum, A);
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const worker = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const user = `user-${(w * 7 + n) % 40}`;
        const res = await fetch(`${base}/v1/users/${user}/recommendations?k=5`);
        const body = (await res.json()) as { items: { item: number; score: number }[] };
        const model = checksums.get(res.headers.get('x-recsys-model') ?? '');
        if (res.status !== 200 || !model) {
          failures.push(`${res.status} ${res.headers.get('x-recsys-model')}`);
          continue;
        }
        // Requests that arrive together are scored as one batch (a matrix product): the same items, scores equal
        // up to float rounding.
        const want = model.recommend(user, { k: 5 });
        const same =
          want.length === body.items.length && want.every((w, j) => w.item === body.items[j]!.item && Math.abs(w.score - body.items[j]!.score) < 1e-4);
        if (!same) failures.push(`mixed answer for ${user}`);
        else ok++;
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    for (let round = 0; round < 8; round++) {
      const next = round % 2 === 0 ? B : A;
      next.save(path);
      const expected = (await import('../../ts/index.js')).readModelInfo(path).checksum;
      checksums.set(expected, next);
      await until(() => s.recommender.served.checksum === expected);
      if (round === 3) writeFileSync(path, 'garbage in the middle of the run');
      await new Promise((r) => setTimeout(r, 60));
      if (round === 3) await until(() => s.recommender.metrics.reloadsFailed > 0);
    }
    stop = true;
    await Promise.all(workers);
    await s.close();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(s.recommender.metrics.reloadsOk).toBeGreaterThanOrEqual(7);
  });
});

describe('recsys serve (a real port on 127.0.0.1)', () => {
  const main = fileURLToPath(new URL('../../ts/cli/main.ts', import.meta.url));
  async function start(path: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    const p = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '--model', path, '--port', '0', '--no-watch', '--quiet', ...extra], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.test(stderr), 20000);
    return { p, exited, base: /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!, stderr: () => stderr };
  }
  const A = factorModel(400, 3000, 32, 1);
  const B = factorModel(400, 3000, 32, 2);

  it('answers and reloads on SIGHUP', async () => {
    const path = tmp.path('cli.rsm');
    A.save(path);
    const { p, exited, base } = await start(path);
    const health = async () => ((await (await fetch(`${base}/v1/status`)).json()) as { model: { checksum: string } }).model.checksum;
    const first = await health();
    const r = await fetch(`${base}/v1/users/user-3/recommendations?k=4`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { items: unknown }).items).toEqual(A.recommend('user-3', { k: 4 }));
    B.save(path);
    p.kill('SIGHUP');
    const end = Date.now() + 10000;
    while ((await health()) === first && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    expect(await health()).not.toBe(first);
    const r2 = await fetch(`${base}/v1/users/user-3/recommendations?k=4`);
    expect(((await r2.json()) as { items: unknown }).items).toEqual(B.recommend('user-3', { k: 4 }));
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60000);

  it('takes the token from --token-file (one per line) and warns that --token shows in ps', async () => {
    const path = tmp.path('token.rsm');
    A.save(path);
    const tokens = tmp.path('tokens.txt');
    writeFileSync(tokens, 'first-token\n\nsecond-token\n');
    const { p, exited, base, stderr } = await start(path, ['--token-file', tokens, '--headers-timeout', '2000', '--max-connections', '100'], {
      ...process.env,
      RECSYS_TOKEN: 'ignored',
    });
    await until(() => /at most 100 connections; headers within 2000 ms/.test(stderr()));
    const get = (url: string, auth?: string) => fetch(`${base}${url}`, { headers: auth ? { authorization: auth } : {} });
    expect((await get('/v1/users/user-3/recommendations')).status).toBe(401);
    expect((await get('/v1/users/user-3/recommendations', 'Bearer ignored')).status).toBe(401);
    expect((await get('/v1/users/user-3/recommendations', 'bearer first-token')).status).toBe(200);
    expect((await get('/v1/users/user-3/recommendations', 'BEARER second-token')).status).toBe(200);
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/v1/status')).status).toBe(401);
    expect(((await (await get('/v1/status', 'Bearer first-token')).json()) as { model: { path: string } }).model.path).toBe(path);
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr()).not.toMatch(/visible/);
    const viaFlag = await start(path, ['--token', 'x']);
    await until(() => /at most \d+ connections/.test(viaFlag.stderr()));
    expect(viaFlag.stderr()).toMatch(/--token is visible to other local users in ps/);
    viaFlag.p.kill('SIGTERM');
    expect(await viaFlag.exited).toBe(0);
  }, 60000);

  it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
    const path = tmp.path('term.rsm');
    A.save(path);
    const users = Array.from({ length: 400 }, (_, u) => `user-${u}`);
    // The heavy request must reach the server before the signal; a later one is refused with 503, so retry then.
    let answered = false;
    for (let attempt = 0; attempt < 3 && !answered; attempt++) {
      const { p, exited, stderr } = await start(path).then((x) => ({ ...x, stderr: x.stderr }));
      const base = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr())![1]!;
      const heavy = fetch(`${base}/v1/recommendations/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ users, k: 1000 }),
      });
      await new Promise((res) => setTimeout(res, 60 * (attempt + 1)));
      p.kill('SIGTERM');
      const hr = await heavy;
      expect([200, 503]).toContain(hr.status);
      const body = (await hr.json()) as { results?: unknown[] };
      if (hr.status === 200) {
        expect(body.results).toHaveLength(400);
        answered = true;
      }
      expect(await exited).toBe(0);
      expect(stderr()).toMatch(/SIGTERM: finishing in-flight requests/);
    }
    expect(answered).toBe(true);
  }, 90000);
});
