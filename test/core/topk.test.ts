import { describe, expect, it } from 'vitest';
import { addon } from '../../ts/native.js';
import { mulberry32 } from '../helpers/random.js';

// Brute force: sort all candidates by (score desc, item asc), NaN never a candidate.
function bruteTopK(scores: Float32Array, k: number, seen: number[] = [], exclude: number[] = [], include?: number[]) {
  const banned = new Set([...seen, ...exclude]);
  const cand = include ? [...new Set(include)] : [...scores.keys()];
  return cand
    .filter((i) => i >= 0 && i < scores.length && !banned.has(i) && !Number.isNaN(scores[i]!))
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, k);
}

describe('top-K selection', () => {
  const rnd = mulberry32(11);

  it('equals brute force on random scores with random filters (ties included)', () => {
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 200);
      // Few distinct values so ties are common.
      const scores = Float32Array.from({ length: n }, () => Math.floor(rnd() * 20) / 4);
      if (trial % 7 === 0) scores[Math.floor(rnd() * n)] = NaN;
      const k = Math.floor(rnd() * (n + 5));
      const seen = [...new Set(Array.from({ length: Math.floor(rnd() * n) }, () => Math.floor(rnd() * n)))].sort((a, b) => a - b);
      const exclude = trial % 2 ? Array.from({ length: Math.floor(rnd() * 10) }, () => Math.floor(rnd() * (n + 3)) - 1) : [];
      const include = trial % 3 === 0 ? Array.from({ length: Math.floor(rnd() * 15) }, () => Math.floor(rnd() * (n + 3)) - 1) : undefined;
      const got = addon._topk(scores, k, Int32Array.from(seen), Int32Array.from(exclude), include && Int32Array.from(include));
      expect(Array.from(got.items)).toEqual(bruteTopK(scores, k, seen, exclude, include));
      for (let j = 0; j < got.items.length; j++) expect(got.scores[j]).toBe(scores[got.items[j]!]);
    }
  });

  it('a user who has seen every item gets nothing', () => {
    const scores = Float32Array.from([3, 1, 2]);
    expect(addon._topk(scores, 10, Int32Array.from([0, 1, 2])).items.length).toBe(0);
  });

  it('k larger than the catalogue returns every candidate, best first', () => {
    const scores = Float32Array.from([3, 1, 2]);
    expect(Array.from(addon._topk(scores, 100).items)).toEqual([0, 2, 1]);
  });

  it('an empty include list means no candidates; no include list means all', () => {
    const scores = Float32Array.from([3, 1, 2]);
    expect(addon._topk(scores, 2, undefined, undefined, new Int32Array(0)).items.length).toBe(0);
    expect(addon._topk(scores, 2, undefined, undefined, undefined).items.length).toBe(2);
  });

  it('exclude overlapping seen and out-of-range ids are harmless', () => {
    const scores = Float32Array.from([5, 4, 3, 2, 1]);
    const r = addon._topk(scores, 3, Int32Array.from([0, 1]), Int32Array.from([1, 2, 99, -4]));
    expect(Array.from(r.items)).toEqual([3, 4]);
  });

  it('rejects unsorted seen lists with E_ARG', () => {
    expect(() => addon._topk(Float32Array.from([1, 2]), 1, Int32Array.from([1, 0]))).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});
