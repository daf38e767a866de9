import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createExperiment, createRecommender, experimentArm, userBucket, type ExperimentService, type Recommender } from '../../ts/index.js';
import { topOverlap } from '../../ts/serve/experiment.js';
import { serveCommand } from '../../ts/cli/serve.js';
import { factorModel, tempDir } from '../io/helpers.js';
import { server } from './fixtures.js';
import { typedOrFineAsync } from '../helpers/rejection.js';

const tmp = tempDir('recsys-experiment-');
afterAll(() => tmp.remove());
const quiet = { info() {}, warn() {}, error() {} };
const users = Array.from({ length: 40 }, (_, u) => `user-${u}`);

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The value of one sample line of a Prometheus text body (undefined when absent). */
function metric(text: string, line: string): number | undefined {
  const hit = text.split('\n').find((l) => l.startsWith(line + ' '));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
}

// A plain FNV-1a 32 + fmix32, written from the definitions, to check the service's hash against.
function referenceBucket(text: string): number {
  let h = 0x811c9dc5n;
  for (const byte of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(byte)) * 0x01000193n) & 0xffffffffn;
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & 0xffffffffn;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & 0xffffffffn;
  h ^= h >> 16n;
  return Number(h) / 2 ** 32;
}

describe('the split by user', () => {
  it('is a fixed function of the id and the salt (the same arm in every process and after restarts)', () => {
    // Values computed once: a change of the hash would move users between arms of running experiments.
    expect(userBucket('user-1')).toBe(0.4670340372249484);
    expect(userBucket('user-1', 'exp2')).toBe(0.6350241592153907);
    expect(userBucket('ü-ñ')).toBe(0.1685683443211019);
    for (let i = 0; i < 500; i++) {
      const id = `u${i * 7919}-é`;
      expect(userBucket(id)).toBe(referenceBucket(id));
      expect(userBucket(id, 'salt')).toBe(referenceBucket(`salt\u0000${id}`));
    }
    // 42 and "42" are the same user to the id rule, so they share an arm.
    expect(userBucket(42)).toBe(userBucket('42'));
    expect(experimentArm(42, 0.5)).toBe(experimentArm('42', 0.5));
  });

  it('puts the configured fraction of 10k users in arm B (within 2 points), nested as the split grows', () => {
    for (const ids of [Array.from({ length: 10_000 }, (_, i) => `user-${i}`), Array.from({ length: 10_000 }, (_, i) => i + 1)]) {
      for (const split of [0, 0.01, 0.1, 0.3, 0.5, 0.9, 1]) {
        const inB = ids.filter((u) => experimentArm(u, split) === 'B').length / ids.length;
        expect(Math.abs(inB - split)).toBeLessThanOrEqual(0.02);
      }
      // Ramping B up from 10% to 50% only moves users from A to B.
      for (const u of ids) if (experimentArm(u, 0.1) === 'B') expect(experimentArm(u, 0.5)).toBe('B');
    }
    // A new salt draws new arms: about half the users change arm at a 50% split.
    const ids = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const moved = ids.filter((u) => experimentArm(u, 0.5) !== experimentArm(u, 0.5, 'exp-2')).length / ids.length;
    expect(Math.abs(moved - 0.5)).toBeLessThanOrEqual(0.02);
  });

  it('overlap counts the first min(k, 10) items of the primary found among the shadow ones', () => {
    const l = (ids: number[]) => ids.map((item) => ({ item, score: 0 }));
    expect(topOverlap(l([1, 2, 3, 4]), l([4, 3, 9, 8]))).toBe(0.5);
    expect(topOverlap(l([1, 2]), l([]))).toBe(0);
    expect(topOverlap(l([]), l([1]))).toBeUndefined();
    expect(topOverlap(l(Array.from({ length: 20 }, (_, i) => i)), l(Array.from({ length: 20 }, (_, i) => 19 - i)))).toBe(0);
  });
});

describe('A/B', () => {
  const A = factorModel(40, 200, 8, 1);
  const B = factorModel(40, 200, 8, 2);
  const expected = (m: Recommender, u: string, k = 10) => m.recommend(u, { k });

  it('answers each user from one arm, says which, and counts per arm in /metrics', async () => {
    const svc = createExperiment({ model: A, experiment: { modelB: B, split: 0.5 }, eventLoopMetrics: false, logger: quiet });
    const byArm = { A: 0, B: 0 };
    for (const u of users) {
      const arm = experimentArm(u, 0.5);
      byArm[arm]++;
      expect(svc.armOf(u)).toBe(arm);
      const r = svc.recommend(u);
      expect(r.arm).toBe(arm);
      expect(r.items).toEqual(expected(arm === 'A' ? A : B, u));
      expect(svc.recommend(u).arm).toBe(arm); // again: the same arm
      const later = await svc.recommendAsync(u, { k: 5 });
      expect(later.arm).toBe(arm);
      expect(later.items.map((x) => x.item)).toEqual(expected(arm === 'A' ? A : B, u, 5).map((x) => x.item));
    }
    expect(byArm.A).toBeGreaterThan(5);
    expect(byArm.B).toBeGreaterThan(5);
    const batch = svc.recommendBatch([...users, 'nobody'], { k: 3 }).results;
    batch.slice(0, 40).forEach((e, p) => {
      expect(e.arm).toBe(experimentArm(users[p]!, 0.5));
      expect('items' in e && e.items.map((x) => x.item)).toEqual(expected(e.arm === 'A' ? A : B, users[p]!, 3).map((x) => x.item));
    });
    expect(batch[40]).toMatchObject({ user: 'nobody', arm: experimentArm('nobody', 0.5), error: { code: 'E_UNKNOWN_USER' } });
    expect(() => svc.recommend('nobody')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_USER' }));
    // explain follows the user's arm.
    const ub = users.find((u) => svc.armOf(u) === 'B')!;
    expect(svc.explain(ub, 1000).score).toBeCloseTo(B.predict(ub, 1000), 4);

    const text = svc.renderMetrics();
    const nb = experimentArm('nobody', 0.5);
    // recommend twice, recommendAsync once and the batch once per user.
    for (const arm of ['A', 'B'] as const) expect(metric(text, `recsys_experiment_requests_total{arm="${arm}",result="ok"}`)).toBe(4 * byArm[arm]);
    expect(metric(text, `recsys_experiment_requests_total{arm="${nb}",result="E_UNKNOWN_USER"}`)).toBe(2);
    // Latency: one observation per call (a batch: one per arm), the unknown user's failed call included.
    for (const arm of ['A', 'B'] as const)
      expect(metric(text, `recsys_experiment_duration_seconds_count{arm="${arm}"}`)).toBe(3 * byArm[arm] + 1 + (arm === nb ? 1 : 0));
    expect(metric(text, 'recsys_experiment_split')).toBe(0.5);
    expect(text).toContain(`recsys_experiment_model_info{arm="B",class="FactorModel",checksum="memory"} 1`);
    expect(text).toContain('recsys_experiment_info{mode="ab",salt=""} 1');
    expect(text).toMatch(/recsys_experiment_duration_seconds_bucket\{arm="A",le="\+Inf"\} \d+/);
    expect(text).not.toContain('recsys_shadow_');
    expect(svc.status().experiment).toMatchObject({
      mode: 'ab',
      split: 0.5,
      arms: { A: { model: { class: 'FactorModel' } }, B: { model: { checksum: 'memory' } } },
    });
    svc.close();
  });

  it('split 0 and 1 send everyone to one arm; bad options are E_ARG', () => {
    for (const [split, arm] of [
      [0, 'A'],
      [1, 'B'],
    ] as const) {
      const svc = createExperiment({ model: A, experiment: { modelB: B, split }, eventLoopMetrics: false, logger: quiet });
      for (const u of users) expect(svc.recommend(u).arm).toBe(arm);
      svc.close();
    }
    expect(() =>
      createExperiment({ model: A, experiment: { modelB: B }, events: { dir: tmp.path('events') }, eventLoopMetrics: false, logger: quiet }),
    ).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringMatching(/event log/) }));
    for (const experiment of [{ modelB: B, split: 1.5 }, { modelB: B, split: NaN }, { modelB: B, shadow: 'yes' }, { modelB: 3 }, null])
      expect(() => createExperiment({ model: A, experiment: experiment as never, eventLoopMetrics: false, logger: quiet })).toThrow(
        expect.objectContaining({ code: 'E_ARG', message: expect.stringMatching(/experiment/) }),
      );
  });
});

describe('shadow', () => {
  const A = factorModel(40, 200, 8, 1);
  const B = factorModel(40, 200, 8, 2);

  it('never changes an answer, and counts the shadow latency and top-10 overlap', async () => {
    const plain = createRecommender({ model: A, eventLoopMetrics: false, logger: quiet });
    const svc = createExperiment({ model: A, experiment: { modelB: B, shadow: true }, eventLoopMetrics: false, logger: quiet });
    let overlap = 0;
    for (const u of users) {
      const r = await svc.recommendAsync(u);
      expect(r).toEqual({ ...(await plain.recommendAsync(u)), arm: 'A' });
      overlap += 2 * topOverlap(r.items, B.recommend(u, { k: 10 }))!; // this request and the batch below
      const o = { k: 5, filterSeen: false };
      const r5 = svc.recommend(u, o);
      expect(r5).toEqual({ ...plain.recommend(u, o), arm: 'A' });
      overlap += topOverlap(r5.items, B.recommend(u, o))!;
    }
    expect(svc.recommendBatch(users).results).toEqual(plain.recommendBatch(users).results.map((e) => ({ ...e, arm: 'A' })));
    await until(() => svc.status().experiment.shadow!.ok === 81);
    const text = svc.renderMetrics();
    expect(metric(text, 'recsys_shadow_requests_total{result="ok"}')).toBe(81);
    expect(metric(text, 'recsys_shadow_requests_total{result="error"}')).toBe(0);
    expect(metric(text, 'recsys_shadow_duration_seconds_count')).toBe(81);
    // 40 + 40 single requests and 40 batch entries, each compared with B's answer to the same request.
    expect(metric(text, 'recsys_shadow_overlap_at_10_count')).toBe(120);
    expect(metric(text, 'recsys_shadow_overlap_at_10_bucket{le="1"}')).toBe(120);
    expect(metric(text, 'recsys_shadow_overlap_at_10_sum')).toBeCloseTo(overlap, 9);
    expect(overlap).toBeLessThan(120); // two different models: the overlap is not trivially 1
    // Only arm A answers: B's counters stay empty.
    expect(metric(text, 'recsys_experiment_requests_total{arm="A",result="ok"}')).toBe(120);
    expect(text).not.toContain('recsys_experiment_requests_total{arm="B"');
    expect(text).toContain('recsys_experiment_info{mode="shadow",salt=""} 1');
    svc.close();
    plain.close();
  });

  it('a failing shadow model never fails a request (and is counted and logged, not thrown)', async () => {
    const broken = factorModel(40, 200, 8, 2);
    broken.recommend = () => {
      throw new Error('shadow model exploded');
    };
    broken.recommendBatch = () => {
      throw new Error('shadow model exploded');
    };
    const warnings: string[] = [];
    const svc = createExperiment({
      model: A,
      experiment: { modelB: broken, shadow: true },
      eventLoopMetrics: false,
      logger: { ...quiet, warn: (m) => void warnings.push(m) },
    });
    for (const u of users) {
      expect((await svc.recommendAsync(u)).items).toEqual(A.recommend(u));
      expect(svc.recommend(u, { k: 3 }).items).toEqual(A.recommend(u, { k: 3 }));
    }
    expect(svc.recommendBatch(users).results).toHaveLength(40);
    await until(() => svc.status().experiment.shadow!.failed === 81);
    expect(svc.status().experiment.shadow).toMatchObject({ ok: 0, failed: 81, pending: 0, lastError: 'shadow model exploded' });
    expect(metric(svc.renderMetrics(), 'recsys_shadow_requests_total{result="error"}')).toBe(81);
    expect(warnings.length).toBeLessThanOrEqual(6);
    expect(warnings[0]).toMatch(/shadow scoring failed .*exploded/);
    svc.close();
  });

  it('scores only the split of users, and skips beyond maxShadowPending', async () => {
    const svc = createExperiment({ model: A, experiment: { modelB: B, shadow: true, split: 0.3, salt: 's' }, eventLoopMetrics: false, logger: quiet });
    for (const u of users) svc.recommend(u);
    const n = users.filter((u) => userBucket(u, 's') < 0.3).length;
    expect(n).toBeGreaterThan(0);
    await until(() => svc.status().experiment.shadow!.ok === n);
    svc.close();
    const none = createExperiment({ model: A, experiment: { modelB: B, shadow: true, maxShadowPending: 0 }, eventLoopMetrics: false, logger: quiet });
    for (const u of users) none.recommend(u);
    expect(none.status().experiment.shadow).toMatchObject({ ok: 0, skipped: 40 });
    none.close();
  });
});

describe('files, reloads and HTTP', () => {
  const A = factorModel(40, 200, 8, 1);
  const B = factorModel(40, 200, 8, 2);
  const B2 = factorModel(40, 200, 8, 3);

  it('reloads arm B when its file changes (arm A untouched, a bad file keeps B), with no mixed answers under load', async () => {
    const pa = tmp.path('a.rsm');
    const pb = tmp.path('b.rsm');
    A.save(pa);
    B.save(pb);
    const svc: ExperimentService = createExperiment({ model: pa, experiment: { modelB: pb }, watchDebounceMs: 20, eventLoopMetrics: false, logger: quiet });
    const ua = users.filter((u) => svc.armOf(u) === 'A');
    const ub = users.filter((u) => svc.armOf(u) === 'B');
    const first = svc.arms.B.served.checksum;
    const checksumA = svc.arms.A.served.checksum;
    for (const u of ub) expect(svc.recommend(u).items).toEqual(B.recommend(u));
    let stop = false;
    const failures: string[] = [];
    const load = (async () => {
      for (let n = 0; !stop; n++) {
        const u = ub[n % ub.length]!;
        const r = await svc.recommendAsync(u);
        const ok = [B, B2].some((m) => JSON.stringify(m.recommend(u).map((x) => x.item)) === JSON.stringify(r.items.map((x) => x.item)));
        if (!ok || r.arm !== 'B') failures.push(u);
        await new Promise((res) => setImmediate(res));
      }
    })();
    B2.save(pb);
    await until(() => svc.arms.B.served.checksum !== first);
    stop = true;
    await load;
    expect(failures).toEqual([]);
    for (const u of ub) expect(svc.recommend(u).items).toEqual(B2.recommend(u));
    for (const u of ua) expect(svc.recommend(u).items).toEqual(A.recommend(u));
    expect(svc.arms.A.served.checksum).toBe(checksumA);
    writeFileSync(pb, 'this is not a model');
    await until(() => svc.arms.B.metrics.reloadsFailed > 0);
    for (const u of ub) expect(svc.recommend(u).items).toEqual(B2.recommend(u));
    const text = svc.renderMetrics();
    expect(metric(text, 'recsys_experiment_model_reloads_total{arm="B",result="ok"}')).toBe(1);
    expect(metric(text, 'recsys_experiment_model_reloads_total{arm="A",result="ok"}')).toBe(0);
    expect(svc.status().experiment.arms.B.reloads.failed).toBeGreaterThan(0);
    // reload() (SIGHUP) covers both arms.
    B.save(pb);
    const r = await svc.reload();
    expect(r.arms.A).toMatchObject({ reloaded: false, reason: 'the file has not changed' });
    expect(r.arms.B).toMatchObject({ reloaded: true });
    for (const u of ub) expect(svc.recommend(u).items).toEqual(B.recommend(u));
    svc.close();
  });

  it('over HTTP: the arm in the body and x-recsys-arm, the arm model in x-recsys-model, metrics and status', async () => {
    const pa = tmp.path('ha.rsm');
    const pb = tmp.path('hb.rsm');
    A.save(pa);
    B.save(pb);
    const s = await server({ model: pa, experiment: { modelB: pb, split: 0.5 }, watch: false });
    const base = await s.listen({ host: '127.0.0.1', port: 0 });
    const svc = s.recommender as ExperimentService;
    for (const u of users.slice(0, 12)) {
      const arm = experimentArm(u, 0.5);
      const res = await fetch(`${base}/v1/users/${u}/recommendations?k=4`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-recsys-arm')).toBe(arm);
      expect(res.headers.get('x-recsys-model')).toBe(svc.arms[arm].served.checksum);
      const body = (await res.json()) as { arm: string; items: { item: number }[] };
      expect(body.arm).toBe(arm);
      expect(body.items.map((x) => x.item)).toEqual((arm === 'A' ? A : B).recommend(u, { k: 4 }).map((x) => x.item));
      const post = await fetch(`${base}/v1/users/${u}/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"k":2}' });
      expect(post.headers.get('x-recsys-arm')).toBe(arm);
      expect(((await post.json()) as { arm: string }).arm).toBe(arm);
    }
    const batch = await fetch(`${base}/v1/recommendations/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ users: users.slice(0, 6), k: 2 }),
    });
    const results = ((await batch.json()) as { results: { arm: string }[] }).results;
    expect(results.map((e) => e.arm)).toEqual(users.slice(0, 6).map((u) => experimentArm(u, 0.5)));
    // Requests not made for a user go to arm A, without an arm header.
    const fold = await fetch(`${base}/v1/items/1000/similar?k=3`);
    expect(fold.status).toBe(200);
    expect(await fold.json()).toMatchObject({ items: A.similarItems(1000, 3).map((x) => ({ item: x.item })) });
    expect(fold.headers.get('x-recsys-model')).toBe(svc.arms.A.served.checksum);
    expect(fold.headers.get('x-recsys-arm')).toBeNull();
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/recsys_experiment_requests_total\{arm="A",result="ok"\} \d+/);
    expect(text).toMatch(/recsys_experiment_requests_total\{arm="B",result="ok"\} \d+/);
    expect(text).toContain('recsys_http_requests_total');
    const status = (await (await fetch(`${base}/v1/status`)).json()) as { experiment: { mode: string; arms: { B: { model: { path: string } } } } };
    expect(status.experiment.mode).toBe('ab');
    expect(status.experiment.arms.B.model.path).toBe(pb);
    await s.close();
  });

  it('every method throws only typed errors on junk input', async () => {
    const svc = createExperiment({ model: A, experiment: { modelB: B, shadow: false }, eventLoopMetrics: false, logger: quiet });
    const junk = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.constant(NaN),
      fc.string({ maxLength: 4 }),
      fc.integer(),
      fc.object({ maxDepth: 1 }),
      fc.array(fc.oneof(fc.string(), fc.constant(null))),
    );
    await fc.assert(
      fc.asyncProperty(junk, junk, async (u, k) => {
        await typedOrFineAsync(() => svc.recommend(u as never, { k } as never));
        await typedOrFineAsync(() => svc.recommendAsync(u as never, { k } as never));
        await typedOrFineAsync(() => svc.recommendBatch(u as never, { k } as never));
        await typedOrFineAsync(() => svc.explain(u as never, k as never));
        await typedOrFineAsync(() =>
          createExperiment({ model: A, experiment: { modelB: u, split: k } as never, logger: quiet, eventLoopMetrics: false }).close(),
        );
      }),
      { numRuns: 200 },
    );
    svc.close();
  });

  it('recsys serve --model-b --shadow: arm A answers, B scores in the shadow, SIGTERM stops both', async () => {
    const pa = tmp.path('ca.rsm');
    const pb = tmp.path('cb.rsm');
    A.save(pa);
    B.save(pb);
    const main = fileURLToPath(new URL('../../ts/cli/main.ts', import.meta.url));
    const p = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '--model', pa, '--model-b', pb, '--shadow', '--port', '0', '--no-watch', '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.test(stderr) && /arm B/.test(stderr), 20000);
    expect(stderr).toMatch(/arm B FactorModel xxh64:[0-9a-f]+ \(40 users, 200 items\) in the shadow of arm A for 100% of users/);
    const base = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!;
    for (const u of users.slice(0, 5)) {
      const r = await fetch(`${base}/v1/users/${u}/recommendations?k=4`);
      expect(r.headers.get('x-recsys-arm')).toBe('A');
      expect(((await r.json()) as { items: unknown }).items).toEqual(A.recommend(u, { k: 4 }));
    }
    let text = '';
    const end = Date.now() + 10000;
    while (metric(text, 'recsys_shadow_requests_total{result="ok"}') !== 5 && Date.now() < end) text = await (await fetch(`${base}/metrics`)).text();
    expect(metric(text, 'recsys_shadow_requests_total{result="ok"}')).toBe(5);
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60000);

  it('recsys serve: --split, --shadow and --experiment-salt need --model-b; --split is checked', async () => {
    await expect(serveCommand(['--model', 'x.rsm', '--split', '0.3'])).rejects.toThrow(/--split needs --model-b/);
    await expect(serveCommand(['--model', 'x.rsm', '--shadow'])).rejects.toThrow(/--shadow needs --model-b/);
    await expect(serveCommand(['--model', 'x.rsm', '--model-b', 'y.rsm', '--split', '1.5'])).rejects.toThrow(/--split must be a number in \[0, 1\]/);
    await expect(serveCommand(['--model', 'x.rsm', '--model-b', 'y.rsm', '--split', 'half'])).rejects.toThrow(/--split must be/);
  });
});
