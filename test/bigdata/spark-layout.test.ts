// Least-squares fold-in against a plain TS solve, and the Spark ALSModel layout written and read back without
// Spark (test/spark/ checks it against Spark itself).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FactorModel, exportSparkALS, loadSparkALS, readSparkALSInfo, type Id } from '../../ts/index.js';
import { mulberry32, randomMatrix } from '../helpers/random.js';
import { rejection } from '../helpers/rejection.js';
import { TempDir } from '../helpers/tmpdir.js';

const tmp = new TempDir();
afterAll(() => tmp.remove());

/** Solves A x = b (A symmetric positive definite, dense row-major) by Gaussian elimination in double. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/** Spark's per-user least squares, written out plainly. */
function foldInReference(
  V: Float32Array,
  k: number,
  nItems: number,
  items: number[],
  ratings: number[],
  o: { implicit: boolean; alpha: number; reg: number; scaleReg: boolean },
): number[] {
  const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const b = new Array<number>(k).fill(0);
  const v = (i: number) => Array.from(V.subarray(i * k, (i + 1) * k));
  if (o.implicit)
    for (let i = 0; i < nItems; i++) {
      const y = v(i);
      for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) A[a]![c]! += y[a]! * y[c]!;
    }
  let count = 0;
  items.forEach((i, q) => {
    const r = ratings[q]!;
    const y = v(i);
    const conf = o.implicit ? o.alpha * Math.abs(r) : 1;
    const w = o.implicit ? (r > 0 ? 1 + conf : 0) : r;
    if (!o.implicit || r > 0) count++;
    for (let a = 0; a < k; a++) {
      b[a]! += w * y[a]!;
      for (let c = 0; c < k; c++) A[a]![c]! += conf * y[a]! * y[c]!;
    }
  });
  const lambda = o.scaleReg ? o.reg * count : o.reg;
  for (let a = 0; a < k; a++) A[a]![a]! += lambda;
  const x = solve(A, b);
  return Array.from({ length: nItems }, (_, i) => v(i).reduce((s, y, a) => s + y * x[a]!, 0));
}

describe('least-squares fold-in (FactorModel.fromFactors with foldIn)', () => {
  const k = 6;
  const nItems = 40;
  const rnd = mulberry32(99);
  const V = randomMatrix(nItems, k, rnd);
  const U = randomMatrix(3, k, rnd);
  const items = [3, 17, 5, 22, 9, 31, 0];
  const ratings = [5, 1, 3.5, 4, -1, 2, 0.5];
  for (const o of [
    { implicit: false, alpha: 1, reg: 0.1, scaleReg: true },
    { implicit: true, alpha: 2.5, reg: 0.05, scaleReg: true },
    { implicit: true, alpha: 1, reg: 0.3, scaleReg: false },
  ]) {
    it(`matches a plain solve (${JSON.stringify(o)})`, () => {
      const m = FactorModel.fromFactors({
        users: ['a', 'b', 'c'],
        items: Array.from({ length: nItems }, (_, i) => i * 10),
        factors: k,
        userFactors: U,
        itemFactors: V,
        foldIn: o,
      });
      const recs = m.recommendForNewUser({ items: items.map((i) => i * 10), ratings }, { k: nItems, filterSeen: false });
      const ref = foldInReference(V, k, nItems, items, ratings, o);
      expect(recs.length).toBe(nItems);
      for (const r of recs) expect(r.score).toBeCloseTo(ref[(r.item as number) / 10]!, 4);
    });
  }

  it('a user with no usable interactions scores zero; without foldIn there is no fold-in', () => {
    const m = FactorModel.fromFactors({
      users: ['a', 'b', 'c'],
      items: Array.from({ length: nItems }, (_, i) => i),
      factors: k,
      userFactors: U,
      itemFactors: V,
      foldIn: { implicit: true, reg: 0.1 },
    });
    expect(m.recommendForNewUser({ items: [1], ratings: [-2] }, { k: 3 }).every((r) => r.score === 0)).toBe(true);
    const plain = FactorModel.fromFactors({
      users: ['a', 'b', 'c'],
      items: Array.from({ length: nItems }, (_, i) => i),
      factors: k,
      userFactors: U,
      itemFactors: V,
    });
    expect(() => plain.recommendForNewUser({ items: [1] })).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }));
    expect(() =>
      FactorModel.fromFactors({
        users: ['a', 'b', 'c'],
        items: Array.from({ length: nItems }, (_, i) => i),
        factors: k,
        userFactors: U,
        itemFactors: V,
        foldIn: { reg: -1 },
      }),
    ).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});

describe('Spark ALSModel layout', () => {
  const k = 5;
  const rnd = mulberry32(4);
  const users: Id[] = Array.from({ length: 30 }, (_, u) => `user-${u}`);
  const items: Id[] = Array.from({ length: 50 }, (_, i) => 1000 + i * 7);
  const model = FactorModel.fromFactors({ users, items, factors: k, userFactors: randomMatrix(30, k, rnd), itemFactors: randomMatrix(50, k, rnd) });

  it('exportSparkALS writes metadata, factors and id maps that loadSparkALS reads back to the same model', async () => {
    const dir = join(tmp.dir, 'model');
    await exportSparkALS(model, dir, { params: { implicitPrefs: true, alpha: 3, regParam: 0.2 } });
    for (const d of ['metadata', 'userFactors', 'itemFactors', 'userIds', 'itemIds', 'params']) expect(readdirSync(join(dir, d))).toContain('_SUCCESS');
    const meta = JSON.parse(readFileSync(join(dir, 'metadata', 'part-00000'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ class: 'org.apache.spark.ml.recommendation.ALSModel', rank: k, paramMap: { userCol: 'user', itemCol: 'item' } });
    expect(readSparkALSInfo(dir).params).toMatchObject({ implicitPrefs: true, alpha: 3, regParam: 0.2, rank: k });

    const back = await loadSparkALS(dir);
    expect(back.trainData.users.ids).toEqual(users);
    expect(back.trainData.items.ids).toEqual(items);
    expect(back.userFactors).toEqual(model.userFactors);
    expect(back.itemFactors).toEqual(model.itemFactors);
    for (const u of users.slice(0, 5)) expect(back.recommend(u, { k: 10 })).toEqual(model.recommend(u, { k: 10 }));
    // The fold-in is Spark's implicit solve with the recorded alpha and regParam.
    const ref = FactorModel.fromFactors({
      users,
      items,
      factors: k,
      userFactors: model.userFactors!,
      itemFactors: model.itemFactors!,
      foldIn: { implicit: true, alpha: 3, reg: 0.2 },
    });
    const input = { items: [items[1]!, items[7]!, items[9]!], ratings: [2, 1, 4] };
    expect(back.recommendForNewUser(input, { k: 5 })).toEqual(ref.recommendForNewUser(input, { k: 5 }));

    await expect(exportSparkALS(model, dir)).rejects.toMatchObject({ code: 'E_IO' });
    await exportSparkALS(model, dir, { overwrite: true });
  });

  it('a Spark model without id maps is named by its int ids; bad layouts are E_IO / E_PARSE', async () => {
    const dir = join(tmp.dir, 'plain');
    await exportSparkALS(model, dir);
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'userIds'), { recursive: true });
    rmSync(join(dir, 'params'), { recursive: true });
    const m = await loadSparkALS(dir);
    expect(m.trainData.users.ids).toEqual(users.map((_, u) => u));
    expect(m.recommend(3, { k: 4 })).toEqual(model.recommend(users[3]!, { k: 4 }));

    expect((await rejection(loadSparkALS(join(tmp.dir, 'nope')))).code).toBe('E_IO');
    writeFileSync(join(dir, 'metadata', 'part-00000'), JSON.stringify({ class: 'org.apache.spark.ml.recommendation.ALS', rank: 5 }));
    const e = await rejection(loadSparkALS(dir));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toContain('class');
    writeFileSync(join(dir, 'metadata', 'part-00000'), JSON.stringify({ class: 'org.apache.spark.ml.recommendation.ALSModel', rank: 4 }));
    const e2 = await rejection(loadSparkALS(dir));
    expect(e2.code).toBe('E_PARSE');
    expect(e2.message).toMatch(/userFactors.*rank 4/);
  });
});
