// run_fit's async path goes through core/async.h (the task helper the file parsers use too).
import { describe, expect, it } from 'vitest';
import { Dataset, Popularity, type FitProgress } from '../../ts/index.js';
import { addon } from '../../ts/native.js';

const data = () => Dataset.fromArrays({ users: [1, 1, 2, 3, 3, 3], items: ['a', 'b', 'a', 'a', 'b', 'c'] });

describe('async fits through the shared task helper', () => {
  it('resolves with the model and delivers progress on the JS thread', async () => {
    const seen: FitProgress[] = [];
    const m = await new Popularity().fitAsync(data(), { onProgress: (p) => seen.push(p) });
    expect(m.recommend(2, { k: 2 }).map((r) => r.item)).toEqual(['b', 'c']);
    expect(seen.map((p) => [p.phase, p.step, p.total])).toEqual([['count', 1, 1]]);
  });

  it('a throwing progress handler does not fail the fit', async () => {
    const m = await new Popularity().fitAsync(data(), {
      onProgress: () => {
        throw new Error('ignored');
      },
    });
    expect(m.fitted).toBe(true);
  });

  it('rejects with the native error code (cancelled before it ran)', async () => {
    const fit = addon.fitPopularity as (csr: unknown, o: object, run: object) => Promise<unknown>;
    await expect(fit(data().csr, {}, { async: true, cancel: Int32Array.of(1) })).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});
