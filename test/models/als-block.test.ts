// ImplicitALS's iALS++ block solver and frequency-scaled regularization (issue 14, part 5), against the plain-TS
// reference of bench/reference/als.ts, and the promise that the old settings fit exactly what they fitted before.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { thrown } from '../helpers/rejection.js';
import { Dataset, ImplicitALS, info, loadModel, plantedDataset } from '../../ts/index.js';
import { alsObjective, alsSweep, choleskySolve, rowReg, type AlsSweepOptions } from '../../bench/reference/als.js';
import { mulberry32, randomInteractions } from '../helpers/random.js';

const rnd = mulberry32(31);
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
const dir = mkdtempSync(join(tmpdir(), 'recsys-ialspp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ImplicitALS block solver (iALS++)', () => {
  it('one native block sweep equals the plain-TS reference block sweep', () => {
    for (const [blockSize, blockSweeps, binary] of [
      [4, 1, false],
      [3, 2, true],
      [5, 1, true],
    ] as const) {
      const o: AlsSweepOptions = { factors: 12, reg: 0.1, alpha: 2, solver: 'block', blockSize, blockSweeps, binary };
      const params = { ...o, seed: 3 };
      const init = new ImplicitALS({ ...params, iterations: 0 }).fit(small);
      const U = init.userFactors!,
        V = init.itemFactors!;
      alsSweep(small.csr, small.csc, U, V, o);
      const one = new ImplicitALS({ ...params, iterations: 1, threads: 2 }).fit(small);
      expect(maxRelDiff(one.userFactors!, U)).toBeLessThan(1e-3);
      expect(maxRelDiff(one.itemFactors!, V)).toBeLessThan(1e-3);
    }
  });

  it('a row too long to gather whole (chunks of its items per block) solves as the reference does', () => {
    // user 0 takes 33000 items: 33000 x (32 + 32) floats is past the whole-row gather limit (2^21)
    const users: number[] = [],
      items: number[] = [],
      ratings: number[] = [];
    const r = mulberry32(5);
    for (let i = 0; i < 33000; i++) {
      users.push(0);
      items.push(i);
      ratings.push(1 + Math.floor(r() * 5));
    }
    for (let u = 1; u < 4; u++)
      for (let i = 0; i < 40; i++) {
        users.push(u);
        items.push(Math.floor(r() * 33000));
        ratings.push(1 + Math.floor(r() * 5));
      }
    const ds = Dataset.fromArrays({ users, items, ratings }, { duplicates: 'sum' });
    const o: AlsSweepOptions = { factors: 32, reg: 0.1, alpha: 0.5, solver: 'block', blockSize: 12 };
    const init = new ImplicitALS({ ...o, iterations: 0, seed: 2 }).fit(ds);
    const U = init.userFactors!,
      V = init.itemFactors!;
    alsSweep(ds.csr, ds.csc, U, V, o);
    const one = new ImplicitALS({ ...o, iterations: 1, seed: 2 }).fit(ds);
    expect(maxRelDiff(one.userFactors!, U)).toBeLessThan(2e-3);
    expect(maxRelDiff(one.itemFactors!, V)).toBeLessThan(2e-3);
  });

  it('with one block as wide as the factors, a sweep is the exact (Cholesky) sweep', () => {
    const base = { factors: 10, reg: 0.1, alpha: 3, seed: 4, iterations: 2 };
    const block = new ImplicitALS({ ...base, solver: 'block', blockSize: 10 }).fit(small);
    const chol = new ImplicitALS({ ...base, solver: 'cholesky' }).fit(small);
    expect(maxRelDiff(block.userFactors!, chol.userFactors!)).toBeLessThan(1e-4);
    expect(maxRelDiff(block.itemFactors!, chol.itemFactors!)).toBeLessThan(1e-4);
  });

  it('converges to the objective Cholesky reaches (plain-TS objective)', () => {
    const ds = plantedDataset({ users: 80, items: 60, seed: 12 });
    for (const extra of [{}, { regExponent: 0.5, regUnobserved: 0.2 }]) {
      const o: AlsSweepOptions = { factors: 16, reg: 0.1, alpha: 2, solver: 'cholesky', ...extra };
      const obj = (solver: 'cholesky' | 'block', iterations: number, blockSize?: number) => {
        const m = new ImplicitALS({ ...o, solver, blockSize, iterations, seed: 8 }).fit(ds);
        return alsObjective(ds.csr, m.userFactors!, m.itemFactors!, o);
      };
      // ALS creeps on this data (the objective still falls ~5% from 100 to 300 iterations); at 300 both sit within 0.2%
      const chol = obj('cholesky', 300);
      const block = obj('block', 300, 4);
      const start = obj('cholesky', 0);
      expect(start).toBeGreaterThan(chol * 1.5);
      expect(Math.abs(block - chol) / chol).toBeLessThan(4e-3);
      // and it descends: each iteration of the block solver lowers the objective
      let prev = start;
      for (const its of [1, 2, 4, 8]) {
        const v = obj('block', its, 4);
        expect(v).toBeLessThanOrEqual(prev * (1 + 1e-5));
        prev = v;
      }
    }
  });
});

describe('ImplicitALS frequency-scaled regularization', () => {
  it('solves one row in closed form with reg * (n + regUnobserved * items)^regExponent', () => {
    const reg = 0.05,
      alpha = 2,
      k = 6;
    const params = { factors: k, reg, alpha, regExponent: 0.7, regUnobserved: 0.3, solver: 'cholesky' as const, seed: 5 };
    // the last half-sweep of a fit solved every item exactly against the fitted users: redo it for a few items
    const fitted = new ImplicitALS({ ...params, iterations: 1 }).fit(small);
    const U = fitted.userFactors!;
    for (const item of [0, 7, 19]) {
      const col = small.csc;
      const A = new Float64Array(k * k),
        b = new Float64Array(k);
      for (let u = 0; u < small.nUsers; u++) for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) A[a * k + c]! += U[u * k + a]! * U[u * k + c]!;
      const n = col.indptr[item + 1]! - col.indptr[item]!;
      const lambda = reg * (n + 0.3 * small.nUsers) ** 0.7;
      expect(lambda).toBeCloseTo(rowReg({ reg, regExponent: 0.7, regUnobserved: 0.3 }, n, small.nUsers), 12);
      for (let a = 0; a < k; a++) A[a * k + a]! += lambda;
      for (let q = col.indptr[item]!; q < col.indptr[item + 1]!; q++) {
        const u = col.indices[q]!,
          r = col.data![q]!;
        const c = 1 + alpha * Math.abs(r);
        for (let a = 0; a < k; a++) {
          for (let cc = 0; cc < k; cc++) A[a * k + cc]! += (c - 1) * U[u * k + a]! * U[u * k + cc]!;
          if (r > 0) b[a]! += c * U[u * k + a]!;
        }
      }
      choleskySolve(A, b, k);
      const got = fitted.itemFactors!.subarray(item * k, (item + 1) * k);
      expect(maxRelDiff(got, b)).toBeLessThan(1e-4);
    }
  });

  it.each(['cg', 'cholesky', 'block'] as const)('one native sweep (%s) with regExponent > 0 equals the reference', (solver) => {
    const o: AlsSweepOptions = { factors: 8, reg: 0.02, alpha: 1.5, solver, blockSize: 3, regExponent: 0.5, regUnobserved: 0.1 };
    const init = new ImplicitALS({ ...o, iterations: 0, seed: 9 }).fit(small);
    const U = init.userFactors!,
      V = init.itemFactors!;
    alsSweep(small.csr, small.csc, U, V, o);
    const one = new ImplicitALS({ ...o, iterations: 1, seed: 9 }).fit(small);
    const tol = solver === 'cg' ? 2e-3 : 1e-3;
    expect(maxRelDiff(one.userFactors!, U)).toBeLessThan(tol);
    expect(maxRelDiff(one.itemFactors!, V)).toBeLessThan(tol);
  });

  it('fold-in uses the new user its frequency-scaled reg (reproduces a fitted vector)', () => {
    const ds = plantedDataset({ users: 150, items: 120, seed: 4 });
    const m = new ImplicitALS({ factors: 10, iterations: 40, reg: 0.01, alpha: 2, regExponent: 1, regUnobserved: 0.05, solver: 'cholesky' }).fit(ds);
    for (const u of [0, 17, 99]) {
      const items = Array.from(ds.userItems(u), (i) => ds.items.id(i));
      const ratings = Array.from(ds.userValues(u)!);
      const fold = m.recommendForNewUser({ items, ratings }, { k: 10_000, filterSeen: false });
      const byItem = new Map(m.recommend(ds.users.id(u), { k: 10_000, filterSeen: false }).map((r) => [r.item, r.score]));
      const maxScore = Math.max(...byItem.values());
      for (const r of fold) expect(Math.abs(r.score - byItem.get(r.item)!)).toBeLessThan(3e-2 * maxScore);
    }
  });
});

describe('ImplicitALS new options', () => {
  it('regExponent 0 and the old defaults fit bit for bit what the code fitted before (fixture)', () => {
    const fx = JSON.parse(readFileSync(new URL('../fixtures/als-pre-ialspp/factors.json', import.meta.url), 'utf8')) as {
      simd: string;
      blas: string;
      cases: Record<string, { params: Record<string, unknown>; users: string; items: string }>;
    };
    const { users, items, ratings } = randomInteractions(50, 35, 9, mulberry32(77));
    const ds = Dataset.fromArrays({ users, items, ratings });
    const i = info();
    // Float results depend on the kernels' instruction set and the BLAS: exact where they are the fixture's.
    const exact = i.simd === fx.simd && i.blas === fx.blas;
    for (const [name, c] of Object.entries(fx.cases)) {
      for (const extra of [{}, { regExponent: 0, regUnobserved: 7, blockSize: 3, blockSweeps: 2 }]) {
        const m = new ImplicitALS({ ...c.params, ...extra }).fit(ds);
        const want = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);
        if (exact) {
          expect(Array.from(m.userFactors!), name).toEqual(Array.from(want(c.users)));
          expect(Array.from(m.itemFactors!), name).toEqual(Array.from(want(c.items)));
        } else {
          // Other kernels (BLAS, SIMD level) round dot products differently and the inexact CG solve carries that
          // through the iterations (up to 3.6% with the built-in kernels at -O1, the sanitizer build), so the
          // fixture is a loose check here; the new options at nu = 0 must still leave this build's own fit unchanged.
          const base = new ImplicitALS(c.params).fit(ds);
          expect(Array.from(m.userFactors!), name).toEqual(Array.from(base.userFactors!));
          expect(Array.from(m.itemFactors!), name).toEqual(Array.from(base.itemFactors!));
          expect(maxRelDiff(m.userFactors!, want(c.users)), name).toBeLessThan(0.1);
          expect(maxRelDiff(m.itemFactors!, want(c.items)), name).toBeLessThan(0.1);
        }
      }
    }
  });

  it('checks solver, blockSize, blockSweeps, regExponent and regUnobserved', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ solver: 'blocks' }, 'solver'],
      [{ blockSize: 0 }, 'blockSize'],
      [{ blockSize: 2.5 }, 'blockSize'],
      [{ blockSweeps: 0 }, 'blockSweeps'],
      [{ regExponent: -0.5 }, 'regExponent'],
      [{ regExponent: 5 }, 'regExponent'],
      [{ regExponent: Number.NaN }, 'regExponent'],
      [{ regUnobserved: -1 }, 'regUnobserved'],
    ];
    for (const [p, name] of bad) {
      const e = thrown(() => new ImplicitALS(p));
      expect(e.code).toBe('E_ARG');
      expect(e.message).toContain(name);
    }
    const m = new ImplicitALS({ solver: 'block' });
    expect(m.params).toMatchObject({ solver: 'block', blockSize: 32, blockSweeps: 1, regExponent: 0, regUnobserved: 1 });
  });

  it('save/load keeps the new options and the model', () => {
    const m = new ImplicitALS({ factors: 8, iterations: 3, solver: 'block', blockSize: 3, blockSweeps: 2, regExponent: 0.4, regUnobserved: 0.25 }).fit(small);
    const path = join(dir, 'block.rsm');
    m.save(path);
    const back = loadModel<ImplicitALS>(path);
    expect(back.params).toEqual(m.params);
    expect(back.params).toMatchObject({ solver: 'block', blockSize: 3, blockSweeps: 2, regExponent: 0.4, regUnobserved: 0.25 });
    const u = small.users.id(3);
    expect(back.recommend(u, { k: 5 })).toEqual(m.recommend(u, { k: 5 }));
    const newUser = { items: [small.items.id(1), small.items.id(2)], ratings: [3, 5] };
    expect(back.recommendForNewUser(newUser, { k: 5 })).toEqual(m.recommendForNewUser(newUser, { k: 5 }));
  });
});
