// Issue 12 item 5: an abort takes effect inside long single phases (EASE's inversion, Cholesky ALS rows with
// many factors), not only between epochs. Bounds are generous (a loaded CI machine); bench/cancel.ts measures.
import { describe, expect, it } from 'vitest';
import { EASE, ExplicitALS, ImplicitALS } from '../../ts/index.js';
import { addon } from '../../ts/native.js';
import { synthetic } from '../helpers/synthetic.js';

const blas = (addon as any)._blas;

function spd(n: number, seed: number): Float32Array {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  const m = 2 * n;
  const X = Float32Array.from({ length: m * n }, rnd);
  const G = new Float32Array(n * n);
  for (let r = 0; r < m; r++)
    for (let i = 0; i < n; i++) {
      const xi = X[r * n + i]!;
      for (let j = 0; j < n; j++) G[i * n + j]! += xi * X[r * n + j]!;
    }
  for (let i = 0; i < n; i++) G[i * n + i]! += 1;
  return G;
}

describe('blocked (cancellable) Cholesky and inverse', () => {
  it.each([
    [150, 32],
    [300, 64],
    [97, 8],
  ])('n = %i in blocks of %i matches the unblocked inverse', (n, block) => {
    const G = spd(n, n);
    const plain = G.slice();
    expect(blas.inverse(false, n, plain)).toBe(0);
    const blocked = G.slice();
    expect(blas.inverse(false, n, blocked, block)).toBe(0);
    let worst = 0,
      scale = 0;
    for (let p = 0; p < n * n; p++) {
      worst = Math.max(worst, Math.abs(blocked[p]! - plain[p]!));
      scale = Math.max(scale, Math.abs(plain[p]!));
    }
    expect(worst / scale).toBeLessThan(1e-4);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(blocked[i * n + j]).toBe(blocked[j * n + i]);
  });

  it('reports a matrix that is not positive definite', () => {
    const n = 40;
    const G = spd(n, 3);
    G[20 * n + 20] = -1e6;
    expect(blas.inverse(false, n, G, 8)).toBeGreaterThan(0);
  });
});

async function abortLatency(start: (signal: AbortSignal) => Promise<unknown>, afterMs: number): Promise<{ code: string; ms: number }> {
  const ac = new AbortController();
  const p = start(ac.signal);
  await new Promise((r) => setTimeout(r, afterMs));
  const t0 = performance.now();
  ac.abort();
  try {
    await p;
    return { code: 'none', ms: performance.now() - t0 };
  } catch (e) {
    return { code: (e as { code?: string }).code ?? String(e), ms: performance.now() - t0 };
  }
}

describe('abort inside long phases', () => {
  it('EASE stops during the item x item inversion', async () => {
    // 5000 items: the inversion alone is ~170 GFLOP (seconds); the Gram matrix is sparse and quick.
    const ds = synthetic({ users: 1500, items: 5000, minPerUser: 10, maxPerUser: 40, seed: 3, ratings: false, timestamps: false });
    const m = new EASE({ threads: 2 });
    let inverting = false;
    const r = await abortLatency(async (signal) => {
      const fit = m.fitAsync(ds, { signal, onProgress: (p) => void (inverting = p.phase === 'gram' || inverting) });
      return fit;
    }, 300);
    expect(inverting || r.code === 'E_CANCELLED').toBe(true);
    expect(r.code).toBe('E_CANCELLED');
    expect(r.ms).toBeLessThan(1500);
  }, 120_000);

  it.each([
    ['ImplicitALS', () => new ImplicitALS({ threads: 2, factors: 1024, iterations: 3, solver: 'cholesky' })],
    ['ExplicitALS', () => new ExplicitALS({ threads: 2, factors: 1024, epochs: 3 })],
  ])(
    '%s with Cholesky at 1024 factors stops within a row, not a half-sweep',
    async (_name, make) => {
      const ds = synthetic({ users: 300, items: 300, minPerUser: 20, maxPerUser: 60, seed: 5 });
      const r = await abortLatency((signal) => make().fitAsync(ds, { signal }), 400);
      expect(r.code).toBe('E_CANCELLED');
      expect(r.ms).toBeLessThan(1500);
    },
    120_000,
  );
});
