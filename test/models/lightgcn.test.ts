import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dataset, LightGCN, Popularity, loadModel, plantedDataset, type FitProgress } from '../../ts/index.js';
import { addon } from '../../ts/native.js';
import { holdout, precisionAt } from '../helpers/topn.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';
import { TempDir } from '../helpers/tmpdir.js';

const tmp = new TempDir();
afterAll(() => tmp.remove());

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

/**
 * The plain float64 LightGCN forward and batch loss: E0 ((users + items) x k, users first) propagated K times over
 * the graph with entries 1 / sqrt(d_u d_i), final = mean of the K + 1 layers, loss = mean over the triples of
 * -log sigmoid(<f_u, f_i - f_j>) + reg/2 * sum of |layer-0 rows|^2 / batch.
 */
function referenceFinal(ds: Dataset, E0: Float64Array, k: number, K: number): Float64Array {
  const nu = ds.nUsers,
    ni = ds.nItems;
  const { indptr, indices } = ds.csr;
  const degI = new Float64Array(ni);
  for (let p = 0; p < indices.length; p++) degI[indices[p]!]!++;
  let cur = Float64Array.from(E0);
  const fin = Float64Array.from(E0);
  for (let l = 0; l < K; l++) {
    const next = new Float64Array(cur.length);
    for (let u = 0; u < nu; u++) {
      const du = indptr[u + 1]! - indptr[u]!;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        const i = indices[p]!;
        const w = 1 / Math.sqrt(du * degI[i]!);
        for (let f = 0; f < k; f++) {
          next[u * k + f]! += w * cur[(nu + i) * k + f]!;
          next[(nu + i) * k + f]! += w * cur[u * k + f]!;
        }
      }
    }
    cur = next;
    for (let j = 0; j < fin.length; j++) fin[j]! += cur[j]!;
  }
  for (let j = 0; j < fin.length; j++) fin[j]! /= K + 1;
  return fin;
}

function referenceLoss(ds: Dataset, E0: Float64Array, k: number, K: number, reg: number, t: { u: number[]; i: number[]; j: number[] }): number {
  const fin = referenceFinal(ds, E0, k, K);
  const nu = ds.nUsers;
  let loss = 0,
    sq = 0;
  for (let s = 0; s < t.u.length; s++) {
    let x = 0;
    for (let f = 0; f < k; f++) x += fin[t.u[s]! * k + f]! * (fin[(nu + t.i[s]!) * k + f]! - fin[(nu + t.j[s]!) * k + f]!);
    loss += Math.log1p(Math.exp(-x));
    for (const row of [t.u[s]!, nu + t.i[s]!, nu + t.j[s]!]) for (let f = 0; f < k; f++) sq += E0[row * k + f]! ** 2;
  }
  return loss / t.u.length + (reg / 2) * (sq / t.u.length);
}

const tiny = (() => {
  const { users, items } = randomInteractions(7, 6, 3, mulberry32(4));
  return Dataset.fromArrays({ users, items });
})();

describe('LightGCN', () => {
  it('computes the batch loss of a float64 plain forward, and its gradient agrees with finite differences', () => {
    const k = 3,
      K = 3,
      reg = 0.05;
    const rnd = mulberry32(8);
    const n = (tiny.nUsers + tiny.nItems) * k;
    // float32-representable starting point, so both sides see the same E0
    const E0 = Float64Array.from({ length: n }, () => Math.fround((rnd() - 0.5) * 1.2));
    const t = { u: [0, 3, 3, 5, 1, 0], i: [] as number[], j: [] as number[] };
    for (const u of t.u) {
      const seen = new Set(tiny.csr.indices.subarray(tiny.csr.indptr[u], tiny.csr.indptr[u + 1]));
      t.i.push([...seen][Math.floor(rnd() * seen.size)]!);
      let j = Math.floor(rnd() * tiny.nItems);
      while (seen.has(j)) j = (j + 1) % tiny.nItems;
      t.j.push(j);
    }
    for (const threads of [1, 2]) {
      const out = addon.lightgcnBatchLoss(tiny.csr, Float32Array.from(E0), Int32Array.from(t.u), Int32Array.from(t.i), Int32Array.from(t.j), {
        factors: k,
        layers: K,
        reg,
        threads,
      });
      expect(out.loss).toBeCloseTo(referenceLoss(tiny, E0, k, K, reg, t), 6);
      // central differences in float64: exact to ~1e-10 for this smooth loss
      const h = 1e-5;
      let worst = 0,
        big = 0;
      for (let q = 0; q < n; q++) {
        const a = Float64Array.from(E0),
          b = Float64Array.from(E0);
        a[q]! += h;
        b[q]! -= h;
        const fd = (referenceLoss(tiny, a, k, K, reg, t) - referenceLoss(tiny, b, k, K, reg, t)) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - out.grad[q]!));
        big = Math.max(big, Math.abs(fd));
      }
      expect(big).toBeGreaterThan(1e-2); // the check is not vacuous
      expect(worst).toBeLessThan(1e-6);
    }
  });

  it('recommends like its exported final embeddings; fold-in propagates the new user items through the item layers', () => {
    const ds = plantedDataset({ users: 60, items: 40, seed: 2 });
    const K = 2,
      k = 8;
    const m = new LightGCN({ factors: k, layers: K, epochs: 3, threads: 1 }).fit(ds);
    const s = m.nativeModel.state();
    const V = s.item_factors!.data as Float32Array;
    const layers = s.item_layers!.data as Float32Array;
    const norm = s.item_norm!.data as Float32Array;
    expect(s.item_layers!.shape).toEqual([K, 40, k]);
    // item_norm is 1 / sqrt(training degree)
    const deg = new Float64Array(40);
    for (const i of ds.csr.indices) deg[i]!++;
    for (let i = 0; i < 40; i++) expect(norm[i]).toBeCloseTo(deg[i]! ? 1 / Math.sqrt(deg[i]!) : 0, 6);
    const given = [3, 7, 7, 12];
    const x = new Float64Array(k);
    for (let l = 0; l < K; l++) for (const i of new Set(given)) for (let f = 0; f < k; f++) x[f]! += (norm[i]! / Math.sqrt(3)) * layers[(l * 40 + i) * k + f]!;
    const want: number[] = [];
    for (let i = 0; i < 40; i++) {
      let d = 0;
      for (let f = 0; f < k; f++) d += (x[f]! / (K + 1)) * V[i * k + f]!;
      want.push(d);
    }
    const got = m.recommendForNewUser({ items: given.map((i) => ds.items.id(i)) }, { k: 40, filterSeen: false });
    for (const r of got) expect(r.score).toBeCloseTo(want[ds.items.index(r.item)]!, 4);
    // layer 0 of the kept item layers is part of the final mean: V = (layer 0 + ... + layer K) / (K + 1)
    expect(layers.subarray(0, 40 * k).some((v) => v !== 0)).toBe(true);
  });

  it('learns: beats Popularity on a clustered dataset; its loss falls; fold-in finds the right cluster', () => {
    const ds = plantedDataset({ users: 300, items: 150, seed: 5 });
    const { train, test } = holdout(ds, 0.25, 6);
    const losses: number[] = [];
    const m = new LightGCN({ factors: 16, epochs: 30, batchSize: 256, lr: 0.01, computeLoss: true, threads: 2 }).fit(train, {
      onProgress: (p: FitProgress) => losses.push(p.loss!),
    });
    expect(losses).toHaveLength(30);
    expect(losses[0]!).toBeLessThan(Math.log(2) + 0.01);
    expect(losses[29]!).toBeLessThan(losses[0]! * 0.6);
    const pl = precisionAt(m, test);
    const pp = precisionAt(new Popularity().fit(train), test);
    expect(pl).toBeGreaterThan(pp + 0.03);
    // plantedDataset: the first slice of items belongs to group 0
    const given = [1, 4, 9, 12].map((i) => ds.items.id(i));
    const recs = m.recommendForNewUser({ items: given }, { k: 10 });
    expect(recs.filter((r) => ds.items.index(r.item) < 15).length).toBeGreaterThanOrEqual(6);
    const sim = m.similarItems(ds.items.id(2), 5);
    expect(sim.filter((r) => ds.items.index(r.item) < 15).length).toBeGreaterThanOrEqual(3);
  });

  it('is deterministic: the same seed gives the same model for any thread count; other seeds differ', () => {
    const ds = plantedDataset({ users: 80, items: 50, seed: 7 });
    const p = { factors: 8, epochs: 3, batchSize: 64 };
    const a = new LightGCN({ ...p, seed: 1, threads: 1 }).fit(ds).userFactors!;
    const b = new LightGCN({ ...p, seed: 1, threads: 2 }).fit(ds).userFactors!;
    const c = new LightGCN({ ...p, seed: 2, threads: 1 }).fit(ds).userFactors!;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('fits asynchronously with progress, and an AbortSignal stops it', async () => {
    const ds = plantedDataset({ users: 80, items: 50, seed: 7 });
    const seen: number[] = [];
    const p = { factors: 8, epochs: 4, batchSize: 64, seed: 3, threads: 2 };
    const m = await new LightGCN(p).fitAsync(ds, { onProgress: (q) => seen.push(q.step) });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(Array.from(m.userFactors!)).toEqual(Array.from(new LightGCN(p).fit(ds).userFactors!));
    const ac = new AbortController();
    const long = new LightGCN({ factors: 8, epochs: 1_000_000 }).fitAsync(ds, { signal: ac.signal, onProgress: () => ac.abort() });
    await expect(long).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });

  it('saves and loads: same recommendations, fold-in and similar items', () => {
    const ds = plantedDataset({ users: 60, items: 40, seed: 11 });
    const m = new LightGCN({ factors: 8, layers: 2, epochs: 3, threads: 1 }).fit(ds);
    const path = join(tmp.dir, 'lightgcn.model');
    m.save(path);
    const back = loadModel<LightGCN>(path);
    expect(back).toBeInstanceOf(LightGCN);
    const u = ds.users.id(4);
    expect(back.recommend(u, { k: 10 })).toEqual(m.recommend(u, { k: 10 }));
    const given = { items: [ds.items.id(1), ds.items.id(5)] };
    expect(back.recommendForNewUser(given, { k: 10 })).toEqual(m.recommendForNewUser(given, { k: 10 }));
    expect(back.similarItems(ds.items.id(3), 5)).toEqual(m.similarItems(ds.items.id(3), 5));
  });

  it('rejects bad options and inputs with E_ARG', () => {
    for (const p of [{ layers: 0 }, { layers: 17 }, { factors: 0 }, { lr: 0 }, { reg: -1 }, { batchSize: 0 }, { epochs: 1.5 }, { layer: 3 }])
      expect(code(() => new LightGCN(p as never))).toBe('E_ARG');
    const m = new LightGCN({ factors: 4, epochs: 1 }).fit(tiny);
    expect(code(() => m.recommendForNewUser({ items: ['no such item'] }, { k: 3 }))).toBeDefined();
    const ok = { factors: 2, layers: 1, reg: 0, threads: 1 };
    const E0 = new Float32Array((tiny.nUsers + tiny.nItems) * 2);
    const one = Int32Array.of(0);
    expect(code(() => addon.lightgcnBatchLoss(tiny.csr, E0.subarray(1), one, one, one, ok))).toBe('E_ARG');
    expect(code(() => addon.lightgcnBatchLoss(tiny.csr, E0, Int32Array.of(99), one, one, ok))).toBe('E_ARG');
    expect(code(() => addon.lightgcnBatchLoss(tiny.csr, E0, one, one, Int32Array.of(-1), ok))).toBe('E_ARG');
    expect(code(() => addon.lightgcnBatchLoss(tiny.csr, E0, one, one, one, { ...ok, layers: 0 }))).toBe('E_ARG');
  });
});
