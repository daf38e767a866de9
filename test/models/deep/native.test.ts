// The native pieces the deep models stand on: negative sampling and mini-batch assembly (core/sampling.cc),
// host-side optimizers and the embedding bag (core/optim.cc), and top-K over TS-computed scores (core/topk_rows.cc),
// each against a plain TS reference or a hand-computed case.
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../../ts/data/dataset.js';
import { IdMap } from '../../../ts/data/idmap.js';
import { native } from '../../../ts/errors.js';
import { ADAM } from '../../../ts/models/deep/params.js';
import { addon, type DenseRowsOptions, type OptimizerOptions } from '../../../ts/native.js';
import { code } from '../../helpers/rejection.js';
import { mulberry32, randomInteractions } from '../../helpers/random.js';

// The native seams hold no defaults: every option is spelled out (as the deep models do).
const rowsOptions = (o: Partial<DenseRowsOptions>): DenseRowsOptions => ({ binary: false, normalize: false, dropout: 0, seed: 0, epoch: 0, ...o });
const adam = (lr: number, step: number): OptimizerOptions => ({ method: 'adam', lr, ...ADAM, l2: 0, step });
const sgd = (lr: number, l2 = 0): OptimizerOptions => ({ method: 'sgd', lr, ...ADAM, l2, step: 1 });

function small(): Dataset {
  // user 0: {0, 3}; user 1: {2}; user 2: every item but 4; user 3: every item.
  const u = [0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3];
  const i = [0, 3, 2, 0, 1, 2, 3, 0, 1, 2, 3, 4];
  const ids = (n: number) => new IdMap(Array.from({ length: n }, (_, j) => j));
  return Dataset.fromCoo(ids(4), ids(5), Int32Array.from(u), Int32Array.from(i));
}

describe('negative sampling', () => {
  const ds = small();

  it('draws only unseen items, -1 for a user who has seen everything, the lone unseen item for a dense user', () => {
    const users = Int32Array.from({ length: 400 }, (_, p) => p % 4);
    const neg = addon.sampleNegatives(ds.csr, users, { seed: 3, epoch: 0, threads: 0 });
    for (let p = 0; p < users.length; p++) {
      const u = users[p]!;
      const seen = new Set(ds.userItems(u));
      if (u === 3) expect(neg[p]).toBe(-1);
      else {
        expect(seen.has(neg[p]!)).toBe(false);
        expect(neg[p]).toBeGreaterThanOrEqual(0);
        expect(neg[p]).toBeLessThan(5);
      }
      if (u === 2) expect(neg[p]).toBe(4);
    }
  });

  it('is uniform over the unseen items (sparse and dense rows)', () => {
    const n = 30000;
    for (const [u, unseen] of [
      [0, [1, 2, 4]],
      [1, [0, 1, 3, 4]],
    ] as const) {
      const neg = addon.sampleNegatives(ds.csr, new Int32Array(n).fill(u), { seed: 11, epoch: 0, threads: 0 });
      const counts = new Map<number, number>();
      for (const j of neg) counts.set(j, (counts.get(j) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual([...unseen]);
      for (const j of unseen) expect(Math.abs(counts.get(j)! / n - 1 / unseen.length)).toBeLessThan(0.015);
    }
    // A user who has seen 60 of 100 items draws from the complement directly: still uniform.
    const denseItems = [...Array.from({ length: 40 }, (_, j) => j), ...Array.from({ length: 20 }, (_, j) => 40 + 2 * j)];
    const dense = Dataset.fromArrays({
      users: [...Array(60).fill(0), ...Array(100).fill(1)],
      items: [...denseItems, ...Array.from({ length: 100 }, (_, j) => j)],
    });
    const cols = dense.nItems;
    const seen = new Set(dense.userItems(0));
    const neg = addon.sampleNegatives(dense.csr, new Int32Array(n), { seed: 2, epoch: 0, threads: 0 });
    const counts = new Float64Array(cols);
    for (const j of neg) {
      expect(seen.has(j)).toBe(false);
      counts[j]!++;
    }
    const k = cols - seen.size;
    for (let j = 0; j < cols; j++) if (!seen.has(j)) expect(Math.abs(counts[j]! / n - 1 / k)).toBeLessThan(0.02);
  });

  it('sampleEpoch: every interaction once with label 1, `negatives` unseen draws each, shuffled, seeded, thread-independent', () => {
    const rnd = mulberry32(4);
    const data = Dataset.fromArrays(randomInteractions(50, 30, 8, rnd));
    const plain = addon.sampleEpoch(data.csr, { negatives: 3, seed: 9, epoch: 2, shuffle: false, threads: 1 });
    expect(plain.users.length).toBe(data.nnz * 4);
    // Unshuffled layout: positive then its 3 negatives, in CSR order.
    let q = 0;
    for (let u = 0; u < data.nUsers; u++)
      for (const i of data.userItems(u)) {
        expect([plain.users[q], plain.items[q], plain.labels[q]]).toEqual([u, i, 1]);
        for (let j = 1; j <= 3; j++) {
          expect(plain.users[q + j]).toBe(u);
          expect(plain.labels[q + j]).toBe(0);
          expect(data.userItems(u).includes(plain.items[q + j]!)).toBe(false);
        }
        q += 4;
      }
    const a = addon.sampleEpoch(data.csr, { negatives: 3, seed: 9, epoch: 2, shuffle: true, threads: 1 });
    const b = addon.sampleEpoch(data.csr, { negatives: 3, seed: 9, epoch: 2, shuffle: true, threads: 2 });
    expect(b.users).toEqual(a.users);
    expect(b.items).toEqual(a.items);
    expect(b.labels).toEqual(a.labels);
    // The shuffle is a permutation of the plain layout.
    const key = (e: typeof a) => Array.from(e.users, (u, p) => `${u},${e.items[p]},${e.labels[p]}`).sort();
    expect(key(a)).toEqual(key(plain));
    expect(Array.from(a.users.slice(0, 20))).not.toEqual(Array.from(plain.users.slice(0, 20)));
    // Another epoch draws other negatives.
    const c = addon.sampleEpoch(data.csr, { negatives: 3, seed: 9, epoch: 3, shuffle: false, threads: 1 });
    expect(c.items).not.toEqual(plain.items);
  });

  it('denseRows and csrRows: binary, L2-normalised, inverted dropout, unknown rows empty', () => {
    const rows = Int32Array.of(0, 2, -1);
    const d = addon.denseRows(ds.csr, rows, { ...rowsOptions({ binary: true, normalize: true }), threads: 0 });
    expect(Array.from(d.slice(0, 5))).toEqual([Math.fround(Math.SQRT1_2), 0, 0, Math.fround(Math.SQRT1_2), 0]);
    expect(Array.from(d.slice(5, 10))).toEqual([0.5, 0.5, 0.5, 0.5, 0]);
    expect(Array.from(d.slice(10))).toEqual([0, 0, 0, 0, 0]);
    const drop = addon.denseRows(ds.csr, Int32Array.of(2), { ...rowsOptions({ binary: true, dropout: 0.5, seed: 1, epoch: 4 }), threads: 0 });
    for (const v of drop) expect([0, 2]).toContain(v);
    const sparse = addon.csrRows(ds.csr, Int32Array.of(2), rowsOptions({ binary: true, dropout: 0.5, seed: 1, epoch: 4 }));
    const fromSparse = new Float32Array(5);
    sparse.indices.forEach((c, p) => (fromSparse[c] = sparse.values[p]!));
    expect(fromSparse).toEqual(drop);
    expect(code(() => native(() => addon.denseRows(ds.csr, rows, { ...rowsOptions({ dropout: 1 }), threads: 0 })))).toBe('E_ARG');
  });
});

// Adam as written in Kingma & Ba (2015), algorithm 1, in float64 (epsilon as TensorFlow places it).
function adamRef(w: number[], grads: number[][], lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const x = [...w];
  grads.forEach((g, t) => {
    for (let j = 0; j < x.length; j++) {
      m[j] = b1 * m[j]! + (1 - b1) * g[j]!;
      v[j] = b2 * v[j]! + (1 - b2) * g[j]! * g[j]!;
      const mh = m[j]! / (1 - b1 ** (t + 1));
      const vh = v[j]! / (1 - b2 ** (t + 1));
      x[j]! -= (lr * mh) / (Math.sqrt(vh) + eps / Math.sqrt(1 - b2 ** (t + 1)));
    }
  });
  return x;
}

describe('host optimizers', () => {
  it('optimizerStep follows Adam step by step; SGD and L2 as written', () => {
    const w0 = [0.5, -1, 2];
    const grads = [
      [0.1, -0.2, 0.3],
      [0.05, 0.1, -0.4],
      [1, 0, 0.2],
    ];
    const w = Float32Array.from(w0);
    const m = new Float32Array(3);
    const v = new Float32Array(3);
    grads.forEach((g, t) => addon.optimizerStep(w, Float32Array.from(g), m, v, adam(0.01, t + 1)));
    const ref = adamRef(w0, grads, 0.01);
    for (let j = 0; j < 3; j++) expect(w[j]).toBeCloseTo(ref[j]!, 6);
    const s = Float32Array.of(1, 2);
    addon.optimizerStep(s, Float32Array.of(0.5, -1), undefined, undefined, sgd(0.1, 0.2));
    expect(s[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.2 * 1), 6);
    expect(s[1]).toBeCloseTo(2 - 0.1 * (-1 + 0.2 * 2), 6);
    expect(code(() => native(() => addon.optimizerStep(s, Float32Array.of(1), undefined, undefined, sgd(0.1))))).toBe('E_ARG');
    expect(code(() => native(() => addon.optimizerStep(s, Float32Array.of(1, 1), undefined, undefined, adam(0.1, 1))))).toBe('E_ARG');
  });

  it('optimizerRowsStep sums repeated rows and touches only the rows given (lazy Adam)', () => {
    const dim = 2;
    const table = Float32Array.of(1, 1, 2, 2, 3, 3);
    const m = new Float32Array(6);
    const v = new Float32Array(6);
    const rows = Int32Array.of(2, 0, 2);
    const grads = Float32Array.of(0.1, 0.2, -0.3, 0.4, 0.5, -0.6);
    addon.optimizerRowsStep(table, m, v, dim, rows, grads, adam(0.1, 1));
    // Row 1 untouched; row 2 took one step on the summed gradient (0.6, -0.4); row 0 on (-0.3, 0.4).
    expect(Array.from(table.slice(2, 4))).toEqual([2, 2]);
    const r2 = adamRef([3, 3], [[0.6, -0.4]], 0.1);
    const r0 = adamRef([1, 1], [[-0.3, 0.4]], 0.1);
    expect(table[4]).toBeCloseTo(r2[0]!, 5);
    expect(table[5]).toBeCloseTo(r2[1]!, 5);
    expect(table[0]).toBeCloseTo(r0[0]!, 5);
    expect(table[1]).toBeCloseTo(r0[1]!, 5);
    expect(m[2]).toBe(0);
    expect(code(() => native(() => addon.optimizerRowsStep(table, m, v, dim, Int32Array.of(3), Float32Array.of(1, 1), adam(0.1, 1))))).toBe('E_ARG');
  });

  it('embeddingBag and embeddingBagStep equal the dense product x W and its gradient x^T dY', () => {
    const rnd = mulberry32(8);
    const nRows = 7;
    const dim = 3;
    const table = Float32Array.from({ length: nRows * dim }, () => rnd() - 0.5);
    const entries = { rowOf: Int32Array.of(0, 0, 1, 2, 2, 2), indices: Int32Array.of(1, 4, 4, 0, 6, 1), values: Float32Array.of(0.5, 2, 1, -1, 3, 0.25) };
    const out = addon.embeddingBag(table, dim, entries, 3);
    const X = Array.from({ length: 3 }, () => new Float64Array(nRows));
    entries.rowOf.forEach((r, p) => (X[r]![entries.indices[p]!]! += entries.values[p]!));
    for (let r = 0; r < 3; r++)
      for (let d = 0; d < dim; d++) {
        let s = 0;
        for (let i = 0; i < nRows; i++) s += X[r]![i]! * table[i * dim + d]!;
        expect(out[r * dim + d]).toBeCloseTo(s, 5);
      }
    const dOut = Float32Array.from({ length: 3 * dim }, () => rnd() - 0.5);
    const after = table.slice();
    addon.embeddingBagStep(after, undefined, undefined, dim, entries, dOut, sgd(1));
    for (let i = 0; i < nRows; i++)
      for (let d = 0; d < dim; d++) {
        let g = 0;
        for (let r = 0; r < 3; r++) g += X[r]![i]! * dOut[r * dim + d]!;
        expect(after[i * dim + d]).toBeCloseTo(table[i * dim + d]! - g, 5);
      }
    expect(code(() => native(() => addon.embeddingBag(table, dim, { ...entries, rowOf: Int32Array.of(0, 0, 1, 2, 2, 3) }, 3)))).toBe('E_ARG');
  });

  it('gatherRows gives zero rows for unknown indices', () => {
    const g = addon.gatherRows(Float32Array.of(1, 2, 3, 4), 2, Int32Array.of(1, -1, 5, 0));
    expect(Array.from(g)).toEqual([3, 4, 0, 0, 0, 0, 1, 2]);
  });
});

describe('topkRows', () => {
  it('equals the single-row top-K with the same seen / exclude / include filters', () => {
    const rnd = mulberry32(12);
    const ds = Dataset.fromArrays(randomInteractions(20, 15, 5, rnd));
    const nItems = ds.nItems;
    const users = Int32Array.of(3, 0, 7, 19);
    const scores = Float32Array.from({ length: users.length * nItems }, () => Math.round(rnd() * 20) / 4);
    for (const [exclude, include] of [
      [undefined, undefined],
      [Int32Array.of(1, 2), undefined],
      [undefined, Int32Array.of(0, 4, 5, 9, 11)],
    ] as const) {
      const r = addon.topkRows(scores, nItems, 6, users, ds.csr, exclude, include, 2);
      users.forEach((u, row) => {
        const ref = addon._topk(scores.subarray(row * nItems, (row + 1) * nItems), 6, ds.userItems(u), exclude, include);
        expect(r.counts[row]).toBe(ref.items.length);
        expect(Array.from(r.items.subarray(row * r.k, row * r.k + r.counts[row]!))).toEqual(Array.from(ref.items));
      });
    }
  });
});
