// Property tests for the rating models: arbitrary junk as parameters or fold-in input either works or throws a
// RecsysError with a code, never another error and never a crash.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { BiasedMF, Dataset, ExplicitALS, KNNBaseline, KNNBasic, NMF, SlopeOne, SVDpp } from '../../ts/index.js';
import { typedOrFine } from '../helpers/rejection.js';

const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(NaN),
  fc.constant(-Infinity),
  fc.integer({ min: -5, max: 60 }),
  fc.double({ min: -2, max: 2 }),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.array(fc.integer({ min: -3, max: 5 }), { maxLength: 3 }),
  fc.constant({ toString: 0 }),
);

describe('rating models under malformed input', () => {
  const ds = Dataset.fromArrays({ users: [1, 1, 2, 3, 3, 4], items: ['a', 'b', 'a', 'c', 'b', 'c'], ratings: [5, 4, 3, 2, 1, 4] });
  const makers = [
    (p: object) => new BiasedMF(p),
    (p: object) => new SVDpp(p),
    (p: object) => new ExplicitALS(p),
    (p: object) => new KNNBaseline(p),
    (p: object) => new KNNBasic(p),
    (p: object) => new NMF(p),
    (p: object) => new SlopeOne(p),
  ];
  const keys = [
    'factors',
    'epochs',
    'lr',
    'reg',
    'regBias',
    'lrY',
    'initStd',
    'biased',
    'blocks',
    'k',
    'minK',
    'similarity',
    'shrinkage',
    'userBased',
    'maxNeighbors',
    'regUser',
    'initLow',
    'initHigh',
    'weighted',
    'ratingMin',
    'ratingMax',
    'threads',
    'seed',
  ];

  it('parameters', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: makers.length - 1 }), fc.constantFrom(...keys), junk, fc.constantFrom(...keys), junk, (m, k1, v1, k2, v2) => {
        typedOrFine(() =>
          makers[m]!({ [k1]: v1, [k2]: v2 })
            .fit(ds)
            .predict(1, 'a'),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('fold-in input', () => {
    const fitted = makers.map((mk) => mk({}).fit(ds));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: makers.length - 1 }), junk, junk, junk, (m, items, ratings, k) => {
        typedOrFine(() => fitted[m]!.recommendForNewUser({ items, ratings } as never, { k } as never));
      }),
      { numRuns: 300 },
    );
  });
});
