// run_fit's async path goes through core/async.h (the task helper the file parsers use too); progress and
// cancellation by AbortSignal are covered in test/models/baseline.test.ts.
import { describe, expect, it } from 'vitest';
import { Dataset, Popularity } from '../../ts/index.js';
import { addon } from '../../ts/native.js';

const data = () => Dataset.fromArrays({ users: [1, 1, 2, 3, 3, 3], items: ['a', 'b', 'a', 'a', 'b', 'c'] });

describe('async fits through the shared task helper', () => {
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
    await expect(fit(data().csr, { maxMemoryBytes: 1e9 }, { async: true, cancel: Int32Array.of(1) })).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});
