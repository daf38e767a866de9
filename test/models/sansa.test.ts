// SANSA against a plain float64 dense EASE (bench/reference/svd.ts): equal at density 1, close below it.
import { describe, expect, it } from 'vitest';
import { Dataset, EASE, IdMap, RecsysError, SANSA, loadModel, plantedDataset, type FitProgress } from '../../ts/index.js';
import { autoDensity } from '../../ts/models/sansa.js';
import { easeWeights } from '../../bench/reference/svd.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';
import { join } from 'node:path';
import { TempDir } from '../helpers/tmpdir.js';

describe('SANSA', () => {
  const rnd = mulberry32(71);
  // Item popularity skewed (squared uniform), so the order and the budget matter.
  const base = randomInteractions(120, 80, 8, rnd);
  const ds = Dataset.fromArrays(
    { users: base.users, items: base.items.map((i) => Math.floor((Number(i) * Number(i)) / 80)), ratings: base.ratings },
    { duplicates: 'last' },
  );
  const n = ds.nItems;
  const dense = (binary: boolean) => {
    const X = new Float64Array(ds.nUsers * n);
    const { indptr, indices, data } = ds.csr;
    for (let u = 0; u < ds.nUsers; u++) for (let p = indptr[u]!; p < indptr[u + 1]!; p++) X[u * n + indices[p]!] = binary ? 1 : data![p]!;
    return X;
  };
  // B's row i: the native similarItems scores of item i (every item, B_ii = 0).
  const weights = (m: SANSA) => {
    const B = new Float64Array(n * n);
    const h = m.nativeModel;
    for (let i = 0; i < n; i++) {
      const row = h.similarItems(i, n);
      row.items.forEach((j, t) => (B[i * n + j] = row.scores[t]!));
    }
    return B;
  };
  const relErr = (got: ArrayLike<number>, want: ArrayLike<number>) => {
    let num = 0,
      den = 0;
    for (let t = 0; t < want.length; t++) {
      num = Math.max(num, Math.abs(got[t]! - want[t]!));
      den = Math.max(den, Math.abs(want[t]!));
    }
    return num / den;
  };

  it.each([true, false])('density 1 (binary %s): weights and scores equal a dense float64 EASE', (binary) => {
    const lambda = 3;
    const m = new SANSA({ lambda, binary, density: 1, threads: 2 }).fit(ds);
    const X = dense(binary);
    const B = easeWeights(X, ds.nUsers, n, lambda);
    expect(relErr(weights(m), B)).toBeLessThan(1e-4);
    const scores = m.scoreUsersDense(Int32Array.of(0, 17, 42));
    [0, 17, 42].forEach((u, r) => {
      const want = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) want[j] = want[j]! + X[u * n + i]! * B[i * n + j]!;
      expect(relErr(scores.subarray(r * n, (r + 1) * n), want)).toBeLessThan(1e-4);
    });
    // the same model as EASE's own fit, and fold-in of a training user's row gives that user's scores
    const ease = new EASE({ lambda, binary }).fit(ds);
    expect(m.recommend(ds.users.id(5), { k: 5 }).map((r) => r.item)).toEqual(ease.recommend(ds.users.id(5), { k: 5 }).map((r) => r.item));
    const history = { items: Array.from(ds.userItems(3), (i) => ds.items.id(i)), ratings: Array.from(ds.userValues(3)!) };
    expect(m.recommendForNewUser(history, { k: 5 })).toEqual(m.recommend(ds.users.id(3), { k: 5 }));
    expect(m.predict(ds.users.id(17), ds.items.id(4))).toBeCloseTo(scores[n + 4]!, 4);
  });

  it('lower densities stay close to EASE, and closer as the density grows', () => {
    const lambda = 3;
    const B = easeWeights(dense(true), ds.nUsers, n, lambda);
    const ease = new EASE({ lambda, binary: true }).fit(ds);
    const fro = (W: Float64Array) => {
      let d = 0,
        b = 0;
      for (let t = 0; t < B.length; t++) {
        d += (W[t]! - B[t]!) ** 2;
        b += B[t]! ** 2;
      }
      return Math.sqrt(d / b);
    };
    const errs: number[] = [],
      overlaps: number[] = [];
    for (const density of [0.1, 0.6, 0.9]) {
      const m = new SANSA({ lambda, binary: true, density }).fit(ds);
      errs.push(fro(weights(m)));
      let overlap = 0;
      for (let u = 0; u < ds.nUsers; u++) {
        const a = new Set(m.recommend(ds.users.id(u), { k: 10 }).map((r) => r.item));
        overlap += ease.recommend(ds.users.id(u), { k: 10 }).filter((r) => a.has(r.item)).length;
      }
      overlaps.push(overlap / (10 * ds.nUsers));
    }
    // measured: relative Frobenius error 0.93 / 0.60 / 0.19, top-10 overlap with EASE 0.52 / 0.74 / 0.92
    expect(errs[0]!).toBeGreaterThan(errs[1]!);
    expect(errs[1]!).toBeGreaterThan(errs[2]!);
    expect(errs[2]!).toBeGreaterThan(1e-6); // something was dropped
    expect(errs[2]!).toBeLessThan(0.3);
    expect(overlaps[2]!).toBeGreaterThan(0.85);
    expect(overlaps[1]!).toBeGreaterThan(0.6);
  });

  it('is deterministic for any thread count, and saves and loads', () => {
    const a = new SANSA({ density: 0.3, threads: 1 }).fit(ds);
    const b = new SANSA({ density: 0.3, threads: 2 }).fit(ds);
    expect(b.nativeModel.state()).toEqual(a.nativeModel.state());
    const tmp = new TempDir();
    try {
      const path = join(tmp.dir, 'sansa.rsm');
      a.save(path);
      const c = loadModel(path);
      expect(c).toBeInstanceOf(SANSA);
      expect(c.params).toEqual(a.params);
      for (const u of [0, 9, 33]) expect(c.recommend(ds.users.id(u), { k: 8 })).toEqual(a.recommend(ds.users.id(u), { k: 8 }));
      expect(c.similarItems(ds.items.id(2), 5)).toEqual(a.similarItems(ds.items.id(2), 5));
      expect(c.predict(ds.users.id(1), ds.items.id(7))).toEqual(a.predict(ds.users.id(1), ds.items.id(7)));
    } finally {
      tmp.remove();
    }
  });

  it('fitAsync reports progress and stops on abort', async () => {
    const seen: FitProgress[] = [];
    await new SANSA({ density: 1 }).fitAsync(ds, { onProgress: (p) => seen.push(p) });
    const big = plantedDataset({ users: 1500, items: 1200, seed: 3 }); // ~4 s at density 1
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toMatchObject({ step: 40, total: 40, phase: 'inverse' });
    const ac = new AbortController();
    const fit = new SANSA({ density: 1, threads: 1 }).fitAsync(big, {
      signal: ac.signal,
      onProgress: () => ac.abort(),
    });
    await expect(fit).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });

  it('without density, the entry budget sets it: the whole triangle (EASE exactly) when it fits, its share when not', () => {
    expect(autoDensity(1682, 10_000_000)).toBe(1);
    expect(autoDensity(1_000_000, 10_000_000)).toBeCloseTo(2e-5, 9);
    expect(autoDensity(100, 99)).toBe(99 / 4950);
    const lambda = 3;
    const exact = new SANSA({ lambda, binary: true, density: 1, threads: 1 }).fit(ds);
    const auto = new SANSA({ lambda, binary: true, threads: 1 }).fit(ds);
    const share = new SANSA({ lambda, binary: true, threads: 1, entries: Math.floor((ds.nItems * (ds.nItems - 1)) / 2 / 5) }).fit(ds);
    const byDensity = new SANSA({ lambda, binary: true, threads: 1, density: autoDensity(ds.nItems, Math.floor((ds.nItems * (ds.nItems - 1)) / 2 / 5)) }).fit(
      ds,
    );
    for (const u of [0, 5, 17]) {
      expect(auto.recommend(u, { k: 10 })).toEqual(exact.recommend(u, { k: 10 }));
      expect(share.recommend(u, { k: 10 })).toEqual(byDensity.recommend(u, { k: 10 }));
    }
    // A budget below the triangle drops weight: not the exact model any more.
    expect(share.nativeModel.state()['encoder_values']!.data.length).toBeLessThan(exact.nativeModel.state()['encoder_values']!.data.length);
  });

  it('refuses bad params, and refuses before allocating a budget over maxMemoryBytes', () => {
    for (const p of [{ density: 0 }, { density: 1.5 }, { density: Number.NaN }, { lambda: 0 }, { lambda: -1 }, { binary: 1 }, { densty: 0.1 }])
      expect(() => new SANSA(p as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new SANSA({ maxMemoryBytes: 1000 }).fit(ds)).toThrow(RecsysError);
    expect(() => new SANSA({ maxMemoryBytes: 1000 }).fit(ds)).toThrow(
      expect.objectContaining({ code: 'E_MEMORY', message: expect.stringContaining('maxMemoryBytes') }),
    );
    // 1M items at density 0.2 would need 1e11 entries: refused at once
    const big = Dataset.fromCoo(new IdMap([1, 2]), new IdMap(Array.from({ length: 1_000_000 }, (_, i) => i)), Int32Array.of(0, 1), Int32Array.of(0, 999_999));
    expect(() => new SANSA({ density: 0.2 }).fit(big)).toThrow(expect.objectContaining({ code: 'E_MEMORY' }));
    // ... while the default density comes from the entry budget, which any catalogue size can hold
    expect(new SANSA({ entries: 1000, lambda: 1 }).fit(big).recommend(1, { k: 1 })).toHaveLength(1);
    for (const p of [{ entries: 0 }, { entries: 1.5 }, { entries: 2 ** 31 }])
      expect(() => new SANSA(p as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    // ... and fits at a density that the budget allows (the two items never co-occur)
    const m = new SANSA({ density: 1e-6, lambda: 1 }).fit(big);
    expect(m.recommend(1, { k: 1 })).toHaveLength(1);
  });
});
