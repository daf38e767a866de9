import { describe, expect, it } from 'vitest';
import { Dataset } from '../../ts/data/dataset.js';
import { evaluateSequential, sequentialSplit, userSequence, type HeldOutNext } from '../../ts/eval/sequential.js';
import { Rng } from '../../ts/rng.js';
import { code } from '../helpers/rejection.js';

/** u 'a': items 10, 11, 12, 13 at times 4, 1, 3, 2 -> sequence 11, 13, 12, 10. u 'b': 12 then 10 (too short). */
function tiny(): Dataset {
  return Dataset.fromArrays({
    users: ['a', 'a', 'a', 'a', 'b', 'b'],
    items: [10, 11, 12, 13, 12, 10],
    timestamps: [4, 1, 3, 2, 7, 9],
  });
}

describe('sequentialSplit', () => {
  it('orders by time and holds out the last (test) and second-to-last (validation)', () => {
    const ds = tiny();
    const a = ds.userIndex('a');
    const b = ds.userIndex('b');
    const ids = (xs: Int32Array) => Array.from(xs, (i) => ds.items.id(i));
    expect(ids(userSequence(ds, a))).toEqual([11, 13, 12, 10]);
    const s = sequentialSplit(ds);
    expect(Array.from(s.validation.users)).toEqual([a]);
    expect(ids(s.validation.targets)).toEqual([12]);
    expect(ids(s.validation.histories[0]!)).toEqual([11, 13]);
    expect(ids(s.test.targets)).toEqual([10]);
    expect(ids(s.test.histories[0]!)).toEqual([11, 13, 12]);
    expect(ids(s.train.userItems(a)).sort()).toEqual([11, 13]);
    expect(ids(s.trainValid.userItems(a)).sort()).toEqual([11, 12, 13]);
    // The parts keep their timestamps (sequential models fit on them in time order).
    expect(Array.from(userSequence(s.trainValid, a), (i) => ds.items.id(i))).toEqual([11, 13, 12]);
    // b has only 2 events: kept whole in train, not evaluated.
    expect(ids(s.train.userItems(b)).sort()).toEqual([10, 12]);
    expect(s.sequences.length).toBe(2);
  });

  it('breaks equal timestamps by item index, and refuses data without timestamps', () => {
    const ds = Dataset.fromArrays({ users: [1, 1, 1], items: [5, 3, 4], timestamps: [2, 2, 1] });
    expect(Array.from(userSequence(ds, 0), (i) => ds.items.id(i))).toEqual([4, 5, 3]);
    expect(code(() => sequentialSplit(Dataset.fromArrays({ users: [1], items: [1] })))).toBe('E_ARG');
    expect(code(() => sequentialSplit(Dataset.fromArrays({ users: [1, 1], items: [1, 2], timestamps: [1, 2] })))).toBe('E_EMPTY');
  });
});

/** Fixed score rows per held-out position. */
const fixed = (rows: number[][]) => ({
  scoreSequences: (h: readonly Int32Array[]) => {
    expect(h.length).toBe(rows.length);
    return Float32Array.from(rows.flat());
  },
});

describe('evaluateSequential', () => {
  it('full ranking: history excluded, ties to the smaller index; hand-computed', () => {
    // 6 items. User 0: history [0], target 3; scores: item 0 (history) 9 is skipped; above 3 (0.5): item 1 (0.8),
    // item 4 (0.6) -> rank 2. User 1: history [1, 2], target 5 with 0.4; item 4 ties at 0.4 (index 4 < 5 ranks
    // above) and item 0 has 0.9 -> rank 2. User 2: target 2, score 0.7, nothing above -> rank 0.
    const held: HeldOutNext = {
      users: Int32Array.of(0, 1, 2),
      targets: Int32Array.of(3, 5, 2),
      histories: [Int32Array.of(0), Int32Array.of(1, 2), Int32Array.of()],
    };
    const rows = [
      [9, 0.8, 0.1, 0.5, 0.6, 0.2],
      [0.9, 5, 5, 0.1, 0.4, 0.4],
      [0.1, 0.2, 0.7, 0.3, 0.4, 0.5],
    ];
    const r3 = evaluateSequential(fixed(rows), held, 6, { k: 3, negatives: 2 });
    expect(r3['hr@3']).toBeCloseTo(1, 12);
    expect(r3['ndcg@3']).toBeCloseTo((1 / 2 + 1 / 2 + 1) / 3, 6);
    const r2 = evaluateSequential(fixed(rows), held, 6, { k: 2, negatives: 2 });
    expect(r2['hr@2']).toBeCloseTo(1 / 3, 12);
    expect(r2['ndcg@2']).toBeCloseTo(1 / 3, 6);
    expect(r2.users).toBe(3);
  });

  it('sampled: negatives drawn from items the user never had, an equal score ranks above the target', () => {
    // 4 items; user 0 has history [0], target 1 -> the only free items are 2 and 3, both drawn (negatives 2).
    // Scores: 2 ties the target (ranks above), 3 is below -> rank 1.
    const held: HeldOutNext = { users: Int32Array.of(0), targets: Int32Array.of(1), histories: [Int32Array.of(0)] };
    const r = evaluateSequential(fixed([[9, 0.5, 0.5, 0.1]]), held, 4, { k: 1, negatives: 2 });
    expect(r['sampled_hr@1']).toBe(0);
    const r2 = evaluateSequential(fixed([[9, 0.5, 0.5, 0.1]]), held, 4, { k: 2, negatives: 2 });
    expect(r2['sampled_hr@2']).toBe(1);
    expect(r2['sampled_ndcg@2']).toBeCloseTo(1 / Math.log2(3), 6);
    // sequences widen the excluded set: with item 2 in the user's full sequence only item 3 is left -> rank 0.
    const r3 = evaluateSequential(fixed([[9, 0.5, 0.5, 0.1]]), held, 4, { k: 1, negatives: 2, sequences: [Int32Array.of(0, 1, 2)] });
    expect(r3['sampled_hr@1']).toBe(1);
  });

  it('sampled metrics match a plain reference of the same draws, and depend on the seed only', () => {
    const nItems = 300;
    const n = 40;
    const rng = new Rng(7);
    const held: HeldOutNext = { users: new Int32Array(n), targets: new Int32Array(n), histories: [] };
    const rows: number[][] = [];
    for (let u = 0; u < n; u++) {
      held.users[u] = u;
      held.targets[u] = rng.below(nItems);
      held.histories.push(Int32Array.from({ length: 5 }, () => rng.below(nItems)));
      rows.push(Array.from({ length: nItems }, () => rng.below(50)));
    }
    const r = evaluateSequential(fixed(rows), held, nItems, { k: 10, seed: 3 });
    // Reference: the same per-user stream, drawn the plain way.
    let hr = 0;
    let nd = 0;
    for (let u = 0; u < n; u++) {
      const t = held.targets[u]!;
      const own = new Set([...held.histories[u]!, t]);
      const s = new Rng(3, u);
      const got = new Set<number>();
      while (got.size < 100) {
        const i = s.below(nItems);
        if (!own.has(i)) got.add(i);
      }
      const rank = [...got].filter((i) => rows[u]![i]! >= rows[u]![t]!).length;
      if (rank < 10) {
        hr++;
        nd += 1 / Math.log2(rank + 2);
      }
    }
    expect(r['sampled_hr@10']).toBeCloseTo(hr / n, 12);
    expect(r['sampled_ndcg@10']).toBeCloseTo(nd / n, 6);
    expect(evaluateSequential(fixed(rows), held, nItems, { k: 10, seed: 3 })).toEqual(r);
    // Full ranking against a sort.
    let fhr = 0;
    for (let u = 0; u < n; u++) {
      const t = held.targets[u]!;
      const h = new Set(held.histories[u]);
      h.delete(t);
      const rank = rows[u]!.filter((s, i) => !h.has(i) && i !== t && (s > rows[u]![t]! || (s === rows[u]![t]! && i < t))).length;
      fhr += rank < 10 ? 1 : 0;
    }
    expect(r['hr@10']).toBeCloseTo(fhr / n, 12);
  });

  it('scores users through scoreUsersDense, and refuses bad input', () => {
    const held: HeldOutNext = { users: Int32Array.of(1), targets: Int32Array.of(0), histories: [Int32Array.of()] };
    const m = { scoreUsersDense: (u: Int32Array) => (u[0] === 1 ? Float32Array.of(1, 0) : Float32Array.of(0, 1)) };
    expect(evaluateSequential(m, held, 2, { k: 1, negatives: 1 })['hr@1']).toBe(1);
    expect(code(() => evaluateSequential({} as never, held, 2))).toBe('E_ARG');
    expect(code(() => evaluateSequential(m, held, 2, { k: 0 }))).toBe('E_ARG');
    expect(code(() => evaluateSequential(m, { ...held, targets: Int32Array.of() }, 2))).toBe('E_ARG');
  });
});
