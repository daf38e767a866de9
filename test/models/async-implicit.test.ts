// Async fits of the implicit-feedback models report progress and stop on an AbortSignal with E_CANCELLED.
import { describe, expect, it } from 'vitest';
import { BPR, ImplicitALS, plantedDataset, type FitProgress } from '../../ts/index.js';

describe('fitAsync of implicit-feedback models', () => {
  const ds = plantedDataset({ users: 400, items: 300, seed: 12 });

  it('ImplicitALS reports every iteration with its loss', async () => {
    const seen: FitProgress[] = [];
    await new ImplicitALS({ factors: 8, iterations: 4, computeLoss: true }).fitAsync(ds, { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(seen.every((p) => p.phase === 'iteration' && p.total === 4 && Number.isFinite(p.loss))).toBe(true);
  });

  it('BPR stops with E_CANCELLED when aborted mid-fit', async () => {
    const ac = new AbortController();
    const fit = new BPR({ factors: 8, epochs: 100_000, threads: 1 }).fitAsync(ds, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.step === 3) ac.abort();
      },
    });
    await expect(fit).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});
