// Choosing the TensorFlow.js backend: tfjs-node(-gpu) are optional peers that are absent here, so wasm is chosen
// (a simulated install is preferred to it), a failing wasm falls back to cpu, a synchronous first use takes cpu with a warning, and importing recsys (or
// constructing a deep model) does not load TensorFlow.js at all.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { infoCommand } from '../../../ts/cli/info.js';
import { _setDeepBackendLoader, deepBackendInfo, initDeepBackend, tfSync } from '../../../ts/models/deep/backend.js';
import { GMF } from '../../../ts/models/deep/ncf.js';
import { plantedDataset } from '../../../ts/data/synthetic.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const req = createRequire(import.meta.url);

afterAll(() => _setDeepBackendLoader(undefined));

describe('deep backend selection', () => {
  it('a synchronous first use starts wasm synchronously (no await needed)', () => {
    _setDeepBackendLoader(undefined);
    const tf = tfSync();
    expect(tf.getBackend()).toBe('wasm');
    const i = deepBackendInfo()!;
    expect(i.name).toBe('wasm');
    expect(i.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
    // Its kernels work (a fit runs on it) and the emscripten process handlers were taken off again.
    new GMF({ factors: 4, epochs: 1 }).fit(plantedDataset({ users: 30, items: 20, perUser: 5 }));
    expect(process.listeners('unhandledRejection').some((l) => String(l).includes('throw reason'))).toBe(false);
  });

  it('a synchronous first use without wasm takes cpu and warns', async () => {
    _setDeepBackendLoader((pkg) => {
      if (pkg.includes('wasm')) throw new Error('no wasm here');
      return req(pkg);
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(tfSync().getBackend()).toBe('cpu');
      expect(deepBackendInfo()!.skipped.find((s) => s.name === 'wasm')!.reason).toMatch(/^no wasm here; call await initDeepBackend/);
      await new Promise<void>((r) => setImmediate(r));
      expect(warnings.some((w) => w.includes('initDeepBackend'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
      _setDeepBackendLoader(undefined);
    }
  });

  it('chooses wasm when the tfjs-node peers are not installed, reading its .wasm from the package', async () => {
    _setDeepBackendLoader(undefined);
    const i = await initDeepBackend();
    expect(i.name).toBe('wasm');
    expect(i.tfBackend).toBe('wasm');
    expect(i.tfjsVersion).toBe(req('@tensorflow/tfjs/package.json').version);
    expect(i.skipped).toEqual([
      { name: 'tensorflow-gpu', package: '@tensorflow/tfjs-node-gpu', reason: 'not installed' },
      { name: 'tensorflow', package: '@tensorflow/tfjs-node', reason: 'not installed' },
    ]);
    expect(i.simd).toBe(true);
    expect(tfSync().getBackend()).toBe('wasm');
    // Emscripten's process-wide error handlers were taken off again.
    expect(process.listeners('unhandledRejection').some((l) => String(l).includes('throw reason'))).toBe(false);
  });

  it('prefers an installed tfjs-node (simulated: a loader that registers a "tensorflow" backend), and refuses one bound to another tfjs-core', async () => {
    const tf = tfSync();
    // What requiring @tensorflow/tfjs-node does: register a synchronous backend named 'tensorflow', and its
    // kernels, with our tfjs-core. The stand-in is the cpu backend and its kernels under that name.
    const cpuKernels = tf.getKernelsForBackend('cpu');
    _setDeepBackendLoader((pkg) => {
      if (pkg === '@tensorflow/tfjs-node') {
        if (!tf.findBackendFactory('tensorflow')) {
          tf.registerBackend('tensorflow', tf.findBackendFactory('cpu'));
          for (const k of cpuKernels) tf.registerKernel({ ...k, backendName: 'tensorflow' });
        }
        return {};
      }
      return req(pkg);
    });
    const unregister = () => {
      if (!tf.findBackendFactory('tensorflow')) return;
      tf.removeBackend('tensorflow');
      for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
    };
    try {
      const i = await initDeepBackend();
      expect(i.name).toBe('tensorflow');
      expect(i.package).toBe('@tensorflow/tfjs-node');
      expect(i.skipped).toEqual([{ name: 'tensorflow-gpu', package: '@tensorflow/tfjs-node-gpu', reason: 'not installed' }]);
      expect(tf.getBackend()).toBe('tensorflow');
      const ds = plantedDataset({ users: 30, items: 20, perUser: 5 });
      const m = new GMF({ factors: 4, epochs: 1 }).fit(ds);
      expect(m.recommend(ds.users.id(0), { k: 3 })).toHaveLength(3);
      // An install of another version registers with its own tfjs-core: ours has no 'tensorflow' backend.
      unregister();
      _setDeepBackendLoader((pkg) => (pkg === '@tensorflow/tfjs-node' ? {} : req(pkg)));
      const j = await initDeepBackend({ backends: ['tensorflow', 'wasm'] });
      expect(j.name).toBe('wasm');
      expect(j.skipped[0]!.reason).toMatch(/^installed, but bound to another copy of @tensorflow\/tfjs-core: install @tensorflow\/tfjs-node@/);
    } finally {
      unregister();
      _setDeepBackendLoader(undefined);
      await initDeepBackend();
    }
  });

  it('falls back to cpu when wasm cannot be loaded', async () => {
    _setDeepBackendLoader((pkg) => {
      if (pkg.includes('wasm')) throw new Error('wasm is broken here');
      return req(pkg);
    });
    const i = await initDeepBackend({ backends: ['wasm', 'cpu'] });
    expect(i.name).toBe('cpu');
    expect(i.skipped).toEqual([{ name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', reason: 'wasm is broken here' }]);
    expect(tfSync().getBackend()).toBe('cpu');
    _setDeepBackendLoader(undefined);
    expect((await initDeepBackend()).name).toBe('wasm');
  });

  it('reports an error naming every backend when none can be used', async () => {
    _setDeepBackendLoader(() => {
      throw new Error('nothing works');
    });
    await expect(initDeepBackend({ backends: ['tensorflow', 'wasm'] })).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    await expect(initDeepBackend({ backends: ['nope' as 'cpu'] })).rejects.toMatchObject({ code: 'E_ARG' });
    _setDeepBackendLoader(undefined);
  });

  it("uses the wasm package's own asynchronous start when the synchronous one does not apply", () => {
    const script = `
      const { createRequire } = require('node:module');
      const req = createRequire(process.cwd() + '/x.js');
      import('./ts/models/deep/backend.ts').then(async (b) => {
        b._setDeepBackendLoader((pkg) => { if (pkg.includes('wasm-out')) throw new Error('other layout'); return req(pkg); });
        const i = await b.initDeepBackend();
        const tf = b.tfSync();
        console.log(JSON.stringify({ name: i.name, simd: i.simd, sum: tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0] }));
      });`;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toEqual({ name: 'wasm', simd: true, sum: 6 });
  });

  it('recsys info reports the backend and why the native ones are not used', async () => {
    _setDeepBackendLoader(undefined);
    const out: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    try {
      await infoCommand(['--json']);
      expect(JSON.parse(out.join('\n')).deep).toMatchObject({ name: 'wasm', package: '@tensorflow/tfjs-backend-wasm' });
      out.length = 0;
      await infoCommand([]);
      expect(out.join('\n')).toMatch(
        /deep: +TensorFlow\.js [\d.]+ on wasm .*\n.*not used: tensorflow-gpu: not installed; tensorflow: not installed\n.*npm install @tensorflow\/tfjs-node@/,
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('importing recsys and constructing deep models does not load TensorFlow.js', () => {
    const script = `
      import('./ts/index.ts').then((r) => {
        new r.NeuMF(); new r.MultVAE(); new r.AutoRec(); r.models.map((m) => m.create()); r.info();
        const loaded = Object.keys(require.cache).filter((k) => k.includes('@tensorflow'));
        console.log(JSON.stringify({ loaded, info: r.deepBackendInfo() ?? null }));
      });`;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toEqual({ loaded: [], info: null });
  });
});
