import { describe, expect, it } from 'vitest';
import { code } from '../helpers/rejection.js';
import { Dataset, IdMap, ImplicitALS, plantedDataset, type FitProgress } from '../../ts/index.js';
import { alsSweep } from '../../bench/reference/als.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';

const rnd = mulberry32(21);
const small = (() => {
  const { users, items, ratings } = randomInteractions(40, 30, 8, rnd);
  return Dataset.fromArrays({ users, items, ratings });
})();
const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0,
    m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
};

describe('ImplicitALS', () => {
  // The native solver works in float32, the reference in double: Cholesky agrees to float precision; CG, whose
  // rounding grows with the condition number (large on the first sweep from a tiny random start), a little less.
  it.each([
    ['cg', 2e-3],
    ['cholesky', 1e-4],
  ] as const)('one native sweep (%s) equals the plain-TS reference sweep', (solver, tol) => {
    for (const binary of [false, true]) {
      const params = { factors: 6, reg: 0.1, alpha: 2, solver, binary, seed: 3 };
      const init = new ImplicitALS({ ...params, iterations: 0 }).fit(small);
      const U = init.userFactors!,
        V = init.itemFactors!;
      alsSweep(small.csr, small.csc, U, V, { factors: 6, reg: 0.1, alpha: 2, solver, binary });
      const one = new ImplicitALS({ ...params, iterations: 1, threads: 2 }).fit(small);
      expect(maxRelDiff(one.userFactors!, U)).toBeLessThan(tol);
      expect(maxRelDiff(one.itemFactors!, V)).toBeLessThan(tol);
    }
  });

  it('CG run to convergence reaches the Cholesky solution; the default 3 steps rank alike', () => {
    const base = { factors: 8, reg: 0.05, alpha: 3, seed: 9 };
    for (const iterations of [1, 5]) {
      const cg = new ImplicitALS({ ...base, iterations, cgSteps: 32 }).fit(small);
      const ch = new ImplicitALS({ ...base, iterations, solver: 'cholesky' }).fit(small);
      expect(maxRelDiff(cg.userFactors!, ch.userFactors!)).toBeLessThan(1e-3);
      expect(maxRelDiff(cg.itemFactors!, ch.itemFactors!)).toBeLessThan(1e-3);
    }
    // 3 warm-started steps per sweep follow a different path to a solution of the same quality
    const ds = plantedDataset({ users: 200, items: 150, seed: 2 });
    const cg = new ImplicitALS({ factors: 12, iterations: 15, reg: 0.1 }).fit(ds);
    const ch = new ImplicitALS({ factors: 12, iterations: 15, reg: 0.1, solver: 'cholesky' }).fit(ds);
    let overlap = 0;
    for (let u = 0; u < 200; u++) {
      const a = new Set(cg.recommend(ds.users.id(u), { k: 10 }).map((r) => r.item));
      overlap += ch.recommend(ds.users.id(u), { k: 10 }).filter((r) => a.has(r.item)).length;
    }
    expect(overlap / 2000).toBeGreaterThan(0.7);
  });

  it('is deterministic for a seed, whatever the thread count', () => {
    const a = new ImplicitALS({ factors: 8, iterations: 4, threads: 1, seed: 5 }).fit(small).userFactors!;
    const b = new ImplicitALS({ factors: 8, iterations: 4, threads: 2, seed: 5 }).fit(small).userFactors!;
    const c = new ImplicitALS({ factors: 8, iterations: 4, threads: 2, seed: 6 }).fit(small).userFactors!;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('fold-in of a training user reproduces its fitted vector (exact least squares with confidences)', () => {
    const ds = plantedDataset({ users: 150, items: 120, seed: 4 });
    const m = new ImplicitALS({ factors: 10, iterations: 40, reg: 0.1, alpha: 2, solver: 'cholesky' }).fit(ds);
    for (const u of [0, 17, 99]) {
      const items = Array.from(ds.userItems(u), (i) => ds.items.id(i));
      const ratings = Array.from(ds.userValues(u)!);
      const fold = m.recommendForNewUser({ items, ratings }, { k: 10_000, filterSeen: false });
      const fitted = m.recommend(ds.users.id(u), { k: 10_000, filterSeen: false });
      const byItem = new Map(fitted.map((r) => [r.item, r.score]));
      const maxScore = Math.max(...fitted.map((r) => Math.abs(r.score)));
      // the fitted vector was solved against the item vectors of the previous half-sweep, fold-in against the
      // final ones: they agree up to how far ALS still moves per sweep
      for (const r of fold) expect(Math.abs(r.score - byItem.get(r.item)!)).toBeLessThan(3e-2 * maxScore);
      const top = new Set(fitted.slice(0, 10).map((r) => r.item));
      expect(fold.slice(0, 10).filter((r) => top.has(r.item)).length).toBeGreaterThanOrEqual(9);
    }
  });

  it('reports a training loss that decreases over iterations', () => {
    const ds = plantedDataset({ users: 100, items: 80, seed: 8 });
    const losses: number[] = [];
    new ImplicitALS({ factors: 8, iterations: 6, computeLoss: true, solver: 'cholesky' }).fit(ds, {
      onProgress: (p: FitProgress) => losses.push(p.loss!),
    });
    expect(losses.length).toBe(6);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThanOrEqual(losses[i - 1]! * (1 + 1e-6));
    expect(losses[5]!).toBeGreaterThan(0);
  });

  it('partialFit adds new users exactly as fold-in scores them, and keeps the other vectors', () => {
    const full = plantedDataset({ users: 120, items: 100, seed: 6 });
    // the first 100 users train; 20 more arrive
    const coo = full.toCoo();
    const keep = Array.from(coo.rows, (u) => u < 100);
    const firstUsers = new IdMap(full.users.ids.slice(0, 100));
    const part = Dataset.fromCoo(
      firstUsers,
      full.items,
      coo.rows.filter((_, p) => keep[p]),
      coo.cols.filter((_, p) => keep[p]),
      coo.values!.filter((_, p) => keep[p]),
    );
    const m = new ImplicitALS({ factors: 8, iterations: 10, solver: 'cholesky' }).fit(part);
    const before = m.userFactors!;
    const u = 110;
    const items = Array.from(full.userItems(u), (i) => full.items.id(i));
    const ratings = Array.from(full.userValues(u)!);
    const folded = m.recommendForNewUser({ items, ratings }, { k: 10 });
    m.partialFit(full);
    expect(m.trainData).toBe(full);
    expect(Array.from(m.userFactors!.subarray(0, 100 * 8))).toEqual(Array.from(before));
    const after = m.recommend(full.users.id(u), { k: 10 });
    expect(after.map((r) => r.item)).toEqual(folded.map((r) => r.item));
    after.forEach((r, j) => expect(r.score).toBeCloseTo(folded[j]!.score, 4));
  });

  it('partialFit gives new items vectors from the users who took them', () => {
    const ds = plantedDataset({ users: 200, items: 120, seed: 7 });
    const coo = ds.toCoo();
    // hold back items 0..9 (group 0's slice) entirely
    const keep = Array.from(coo.cols, (i) => i >= 10);
    const items = new IdMap(ds.items.ids.slice(10));
    const part = Dataset.fromCoo(
      ds.users,
      items,
      coo.rows.filter((_, p) => keep[p]),
      Int32Array.from(
        coo.cols.filter((_, p) => keep[p]),
        (i) => i - 10,
      ),
      coo.values!.filter((_, p) => keep[p]),
    );
    const m = new ImplicitALS({ factors: 8, iterations: 10, reg: 0.1 }).fit(part);
    m.partialFit(ds);
    // the new items are similar to the rest of group 0's slice
    const sims = m.similarItems(ds.items.id(3), 10);
    const slice0 = (id: unknown) => ds.items.index(id as number) < Math.ceil(120 / 6);
    expect(sims.filter((s) => slice0(s.item)).length).toBeGreaterThanOrEqual(6);
    // and group-0 users (u % 6 == 0) rank them high
    let found = 0;
    for (let u = 0; u < 60; u += 6) found += m.recommend(ds.users.id(u), { k: 20, filterSeen: false }).filter((r) => ds.items.index(r.item) < 10).length;
    expect(found / 10).toBeGreaterThanOrEqual(5);
  });

  it('partialFit refreshes listed users and rejects ids the data lacks', () => {
    const m = new ImplicitALS({ factors: 6, iterations: 5 }).fit(small);
    expect(code(() => m.partialFit(small, { users: ['nobody'] }))).toBe('E_UNKNOWN_USER');
    const before = m.userFactors!;
    m.partialFit(small, { users: [small.users.id(0)] });
    const after = m.userFactors!;
    expect(Array.from(after.subarray(6))).toEqual(Array.from(before.subarray(6)));
    expect(Array.from(after.subarray(0, 6))).not.toEqual(Array.from(before.subarray(0, 6)));
  });
});
