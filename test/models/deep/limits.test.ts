// Limits of the deep models (issue 12, items 4 and 9): a fit estimates its memory and refuses (E_MEMORY) before
// allocating; a wasm backend that aborts is discarded and the next fit in the same process works; a cancelled
// fitAsync stops promptly; a fit that diverges says so (E_STATE) instead of leaving NaN or absurd weights behind.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { plantedDataset } from '../../../ts/data/synthetic.js';
import { AutoRec } from '../../../ts/models/deep/autorec.js';
import { initDeepBackend } from '../../../ts/models/deep/backend.js';
import type { DeepRecommender } from '../../../ts/models/deep/base.js';
import { MultVAE } from '../../../ts/models/deep/multvae.js';
import * as ncf from '../../../ts/models/deep/ncf.js';
import { GMF, MLP, NeuMF } from '../../../ts/models/deep/ncf.js';
import { thrown, rejection } from '../../helpers/rejection.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

beforeAll(async () => {
  await initDeepBackend();
});

const tiny = plantedDataset({ users: 30, items: 20, groups: 2, perUser: 5, affinity: 0.8, seed: 1 });
const peakRssMiB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

describe('memory estimate', () => {
  it('refuses a fit above maxMemoryBytes with E_MEMORY naming the option and the sizes', () => {
    for (const m of [
      new GMF({ maxMemoryBytes: 1e5 }),
      new NeuMF({ maxMemoryBytes: 1e5 }),
      new MultVAE({ maxMemoryBytes: 1e5 }),
      new AutoRec({ maxMemoryBytes: 1e5 }),
    ] as DeepRecommender<any>[]) {
      const e = thrown(() => m.fit(tiny));
      expect(e.code, m.name).toBe('E_MEMORY');
      expect(e.message).toMatch(/maxMemoryBytes = 100000/);
      expect(e.message).toContain('30 users x 20 items');
    }
    // The same options with room to spare fit.
    expect(new GMF({ factors: 8, epochs: 1, maxMemoryBytes: 1e9 }).fit(tiny).recommend(tiny.users.id(0), { k: 3 })).toHaveLength(3);
  });

  it('checks maxMemoryBytes itself', () => {
    for (const bad of [-1, NaN, Infinity, '1e9', 1e19])
      expect(() => new GMF({ maxMemoryBytes: bad as number })).toThrow(
        expect.objectContaining({ code: 'E_ARG', message: expect.stringContaining('maxMemoryBytes') }),
      );
  });

  it("refuses the issue's sizes at once, allocating nothing (NeuMF factors 1e7, MultVAE hidden [1e7], GMF factors 2e7, AutoRec hidden 1e8)", async () => {
    const before = peakRssMiB();
    const t0 = performance.now();
    for (const m of [
      new NeuMF({ factors: 1e7 }),
      new MultVAE({ hidden: [1e7] }),
      new MLP({ layers: [2e6, 8] }),
      new AutoRec({ hidden: 1e8 }),
    ] as DeepRecommender<any>[]) {
      expect(thrown(() => m.fit(tiny)).code, m.name).toBe('E_MEMORY');
    }
    expect((await rejection(new GMF({ factors: 2e7 }).fitAsync(tiny))).code).toBe('E_MEMORY');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(peakRssMiB() - before).toBeLessThan(100);
  });

  it("refuses, whatever maxMemoryBytes, tensors the wasm backend's 4 GiB heap cannot hold", () => {
    const e = thrown(() => new MultVAE({ hidden: [1e7], maxMemoryBytes: 1e18 }).fit(tiny));
    expect(e.code).toBe('E_MEMORY');
    expect(e.message).toMatch(/wasm backend's 4\.0 GiB heap/);
  });
});

describe('a wasm backend that aborts', () => {
  it('is discarded: the failed fit is E_MEMORY and the next fits in the same process give the usual model', () => {
    // The backend's heap is eaten first (an allocation the fit does not know of), so the big fit's tensors do not
    // fit in what is left and Emscripten aborts inside TensorFlow.js (a real Aborted(), as a fit that outgrows the
    // heap gets); everything runs in a child so nothing here depends on that module.
    const script = `
      Promise.all([import('./ts/models/deep/backend.ts'), import('./ts/models/deep/ncf.ts'), import('./ts/data/synthetic.ts')]).then(async ([b, ncf, syn]) => {
        await b.initDeepBackend();
        const tiny = syn.plantedDataset({ users: 30, items: 20, groups: 2, perUser: 5, affinity: 0.8, seed: 1 });
        const users = Int32Array.of(0, 7, 29);
        const scores = (m) => Array.from(m.scoreUsersDense(users));
        const before = scores(new ncf.GMF({ factors: 8, epochs: 2 }).fit(tiny));
        b.tfSync().backend().wasm._malloc(4.1e9);
        if (ncf._ncfLimits) ncf._ncfLimits.stepPart = 2 ** 30; // the batch's 512 x 40000 rows at once: 80 MB per tensor
        let failed;
        try { new ncf.GMF({ factors: 40000, epochs: 1 }).fit(tiny); failed = 'fitted'; } catch (e) { failed = e.code + ': ' + e.message; }
        if (ncf._ncfLimits) ncf._ncfLimits.stepPart = 2 ** 18;
        const after = scores(new ncf.GMF({ factors: 8, epochs: 2 }).fit(tiny));
        const afterAsync = scores(await new ncf.GMF({ factors: 8, epochs: 2 }).fitAsync(tiny));
        const tf = b.tfSync();
        console.log(JSON.stringify({ failed, same: JSON.stringify(before) === JSON.stringify(after), sameAsync: JSON.stringify(before) === JSON.stringify(afterAsync), backend: tf.getBackend(), sum: tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0] }));
      });`;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout.trim().split('\n').pop()!);
    expect(r.failed).toMatch(/^E_MEMORY: GMF: TensorFlow\.js's wasm backend failed \(Aborted\(\)\)/);
    expect(r).toMatchObject({ same: true, sameAsync: true, backend: 'wasm', sum: 6 });
  }, 60_000);
});

describe('divergence', () => {
  // One step per epoch and one epoch: the only loss is computed before the step that diverges, so only a check
  // of the fitted weights and outputs can see it.
  const diverging: [string, () => DeepRecommender<any>][] = [
    ['GMF', () => new GMF({ lr: 1e30, epochs: 1, batchSize: 100000 })],
    ['MLP', () => new MLP({ lr: 1e30, epochs: 1, batchSize: 100000 })],
    ['NeuMF', () => new NeuMF({ lr: 1e30, epochs: 1, batchSize: 100000 })],
    ['AutoRec', () => new AutoRec({ lr: 1e30, epochs: 1 })],
    ['MultVAE', () => new MultVAE({ lr: 1e30, epochs: 1, hidden: [16], latent: 4 })],
  ];
  it.each(diverging)('%s: a fit that diverges is E_STATE, and the model stays unfitted', (_n, make) => {
    const m = make();
    const e = thrown(() => m.fit(tiny));
    expect(e.code).toBe('E_STATE');
    expect(e.message).toMatch(/diverged; try a smaller lr/);
    expect(() => m.recommend(tiny.users.id(0))).toThrow(expect.objectContaining({ code: 'E_NOT_FITTED' }));
  });

  it('fitAsync reports the same', async () => {
    expect((await rejection(new MLP({ lr: 1e30, epochs: 1, batchSize: 100000 }).fitAsync(tiny))).code).toBe('E_STATE');
  });
});

describe('cancellation', () => {
  it('a cancelled fitAsync of a large GMF rejects within 200 ms of the abort (generous bound: 1 s)', async () => {
    // factors 20000 on 30 users: each step moves 512 x 20000 rows, each epoch checks 1e6 weights.
    // Measured from when the abort was due: a timer that fires late means the fit held the event loop.
    const ac = new AbortController();
    const due = performance.now() + 150;
    const timer = setTimeout(() => ac.abort(), 150);
    const e = await rejection(new GMF({ factors: 20000, epochs: 50 }).fitAsync(tiny, { signal: ac.signal }));
    clearTimeout(timer);
    expect(e.code).toBe('E_CANCELLED');
    expect(performance.now() - due).toBeLessThan(1000);
  }, 60_000);

  it('a batch of wide rows computed in parts gives the model of the whole batch at once', () => {
    const limits = (ncf as unknown as { _ncfLimits: { stepPart: number } })._ncfLimits;
    const fit = (part: number) => {
      const saved = limits.stepPart;
      limits.stepPart = part;
      try {
        return new NeuMF({ factors: 2048, layers: [16, 8], epochs: 2 }).fit(tiny).scoreUsersDense(Int32Array.of(0, 11, 29));
      } finally {
        limits.stepPart = saved;
      }
    };
    const whole = fit(2 ** 30);
    const parts = fit(2 ** 16); // 512 x 2056 floats a batch: 17 parts
    for (let j = 0; j < whole.length; j++) expect(parts[j]).toBeCloseTo(whole[j]!, 4);
  });
});
