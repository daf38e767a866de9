// A fit whose numbers overflow says so (E_STATE "... diverged ...") instead of returning a model that predicts NaN
// or recommends nothing (issue 12, item 9). One native check (check_fit_finite, run by run_fit on every fitted
// model) covers every factor family; BiasedMF and SVD++ also stop at the first non-finite epoch.
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../ts/data/dataset.js';
import { RecsysError } from '../../ts/errors.js';
import type { Recommender } from '../../ts/models/base.js';
import { BiasedMF } from '../../ts/models/biased_mf.js';
import { BPR } from '../../ts/models/bpr.js';
import { ExplicitALS } from '../../ts/models/explicit_als.js';
import { ImplicitALS } from '../../ts/models/als.js';
import { SVDpp } from '../../ts/models/svdpp.js';
import { addon } from '../../ts/native.js';
import { synthetic } from '../helpers/synthetic.js';

const data = synthetic({ users: 30, items: 40, minPerUser: 5, maxPerUser: 12, seed: 3 });
// The same interactions with ratings near the top of the float32 range: any square of them overflows.
const coo = data.toCoo();
const huge = Dataset.fromCoo(
  data.users,
  data.items,
  coo.rows,
  coo.cols,
  coo.values!.map((v) => v * 1e37),
);

const cases: [string, () => Recommender, Dataset][] = [
  ['BPR({ factors: 2, lr: 1e6 })', () => new BPR({ factors: 2, lr: 1e6, epochs: 20, threads: 1 }), data],
  ['ImplicitALS on weights of 1e37', () => new ImplicitALS({ factors: 8, threads: 1 }), huge],
  ['BiasedMF({ lr: 1 })', () => new BiasedMF({ factors: 2, lr: 1, threads: 1 }), data],
  ['SVDpp({ lr: 0.9 })', () => new SVDpp({ lr: 0.9, threads: 1 }), data],
  // These ExplicitALS overflows happen with OpenBLAS's Cholesky; the built-in kernels' stays finite on them.
  ...(addon.info().openblas
    ? ([
        ['ExplicitALS({ initStd: 1e19 })', () => new ExplicitALS({ factors: 8, initStd: 1e19, threads: 1 }), data],
        ['ExplicitALS on ratings of 1e37', () => new ExplicitALS({ factors: 4, threads: 1 }), huge],
      ] as [string, () => Recommender, Dataset][])
    : []),
];

describe('models that diverge say so', () => {
  it.each(cases)('%s: fit is E_STATE "diverged"', (_name, make, train) => {
    let err: unknown;
    let model: Recommender | undefined;
    try {
      model = make().fit(train);
    } catch (e) {
      err = e;
    }
    if (model) {
      // What the unfixed code did: a "fitted" model that predicts NaN or recommends nothing.
      const u = train.users.ids[0]!;
      throw new Error(`fit succeeded: predict ${model.predict(u, train.items.ids[0]!)}, ${model.recommend(u, { k: 5 }).length} recommendations`);
    }
    expect(err).toBeInstanceOf(RecsysError);
    expect((err as RecsysError).code).toBe('E_STATE');
    expect((err as RecsysError).message).toMatch(/ diverged \(non-finite .*\): its numbers overflowed; lower the learning rate/);
  });

  it('fitAsync rejects the same way', async () => {
    await expect(new BPR({ factors: 2, lr: 1e6, epochs: 20, threads: 1 }).fitAsync(data)).rejects.toMatchObject({
      code: 'E_STATE',
      message: expect.stringMatching(/^BPR diverged/),
    });
  });

  it('sane settings still fit', () => {
    const m = new BPR({ factors: 4, epochs: 5, threads: 1 }).fit(data);
    expect(m.recommend(data.users.ids[0]!, { k: 5 })).toHaveLength(5);
  });
});
