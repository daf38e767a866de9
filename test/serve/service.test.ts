import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRecommender, loadModel } from '../../ts/index.js';
import { resolveId } from '../../ts/serve/ids.js';
import { IdMap } from '../../ts/data/idmap.js';
import { factorModel } from '../io/helpers.js';
import { popularity } from './fixtures.js';
import { typedOrFineAsync } from '../helpers/rejection.js';

const quiet = { info() {}, warn() {}, error() {} };
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(NaN),
  fc.bigInt({ min: -5n, max: 5n }),
  fc.constant({
    toString: () => {
      throw new Error('broken toString');
    },
  }),
  fc.integer({ min: -5, max: 2000 }),
  fc.double(),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.array(fc.oneof(fc.integer({ min: -3, max: 160 }), fc.string({ maxLength: 3 }), fc.constant(null)), { maxLength: 6 }),
  fc.object({ maxDepth: 1 }),
);

describe('createRecommender', () => {
  const pop = popularity();
  const svc = createRecommender({ model: pop, eventLoopMetrics: false, logger: quiet, maxK: 100 });

  it('resolves ids given as text or numbers, canonical forms only', () => {
    const m = new IdMap([7, '7x', 'a', 2.5, -3]);
    expect(resolveId(m, '7')).toBe(7);
    expect(resolveId(m, 7)).toBe(7);
    expect(resolveId(m, '07')).toBeUndefined();
    expect(resolveId(m, '7.0')).toBeUndefined();
    expect(resolveId(m, '2.5')).toBe(2.5);
    expect(resolveId(m, '-3')).toBe(-3);
    expect(resolveId(m, 'a')).toBe('a');
    const s = new IdMap(['42', 'x']);
    expect(resolveId(s, 42)).toBe('42');
    expect(resolveId(s, '42')).toBe('42');
  });

  it('micro-batched answers (recommendAsync) have the items of recommend(), whatever arrives together', async () => {
    const f = factorModel(50, 300, 16, 4);
    const fs = createRecommender({ model: f, eventLoopMetrics: false, logger: quiet });
    const users = Array.from({ length: 50 }, (_, u) => `user-${u}`);
    const asks = users.flatMap((u, j) => [fs.recommendAsync(u, { k: 1 + (j % 3) }), fs.recommendAsync(u, { k: 5, filterSeen: false })]);
    asks.push(fs.recommendAsync('ghost'));
    const got = await Promise.allSettled(asks);
    expect(got.at(-1)).toMatchObject({ status: 'rejected', reason: { code: 'E_UNKNOWN_USER' } });
    users.forEach((u, j) => {
      for (const [r, k] of [
        [got[2 * j]!, 1 + (j % 3)],
        [got[2 * j + 1]!, 5],
      ] as const) {
        expect(r.status).toBe('fulfilled');
        const items = (r as PromiseFulfilledResult<{ items: { item: unknown; score: number }[] }>).value.items;
        const want = f.recommend(u, { k });
        expect(items.map((x) => x.item)).toEqual(want.map((x) => x.item));
        items.forEach((x, i) => expect(x.score).toBeCloseTo(want[i]!.score, 4));
      }
    });
    await expect(fs.recommendAsync('user-1', { k: 0 })).rejects.toMatchObject({ code: 'E_ARG' });
    fs.close();
  });

  it('every method throws only typed errors on junk input', async () => {
    await fc.assert(
      fc.asyncProperty(junk, junk, junk, junk, async (a, k, exclude, filterSeen) => {
        const o = { k, exclude, filterSeen } as never;
        await typedOrFineAsync(() => svc.recommend(a as never, o));
        await typedOrFineAsync(() => svc.recommendAsync(a as never, o));
        await typedOrFineAsync(() => svc.recommendForItems({ items: a, ratings: exclude } as never, o));
        await typedOrFineAsync(() => svc.recommendForItems(a as never, o));
        await typedOrFineAsync(() => svc.recommendBatch(a as never, o));
        await typedOrFineAsync(() => svc.similarItems(a as never, { k } as never));
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(junk, junk, junk, async (model, maxK, watch) => {
        await typedOrFineAsync(() => createRecommender({ model, maxK, watch, logger: quiet, eventLoopMetrics: false } as never).close());
      }),
      { numRuns: 100 },
    );
    await typedOrFineAsync(() => loadModel(undefined as never));
    await typedOrFineAsync(() => loadModel({} as never));
  });
});
