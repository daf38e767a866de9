// Property tests: the public API fed arbitrary junk either works or throws a RecsysError with a code — never
// another error type, never a crash of the process.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BaselineOnly, Dataset, Popularity } from '../../ts/index.js';
import { typedOrFine } from '../helpers/rejection.js';

const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(NaN),
  fc.constant(Infinity),
  fc.integer({ min: -5, max: 1e6 }),
  fc.double(),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.array(fc.oneof(fc.integer({ min: -3, max: 30 }), fc.string({ maxLength: 2 }), fc.constant(null)), { maxLength: 6 }),
  fc.object({ maxDepth: 1 }),
);

describe('public API under malformed input', () => {
  const ds = Dataset.fromArrays({ users: [1, 1, 2, 3, 3], items: ['a', 'b', 'a', 'c', 'b'], ratings: [5, 4, 3, 2, 1] });
  const pop = new Popularity().fit(ds);
  const base = new BaselineOnly().fit(ds);

  it('Dataset.fromArrays', () => {
    fc.assert(
      fc.property(junk, junk, junk, junk, junk, (users, items, ratings, timestamps, dup) => {
        typedOrFine(() => Dataset.fromArrays({ users, items, ratings, timestamps } as never, { duplicates: dup } as never));
      }),
      { numRuns: 400 },
    );
  });

  it('recommend, recommendBatch, recommendForNewUser, similarItems, predict', () => {
    fc.assert(
      fc.property(junk, junk, junk, junk, junk, (user, k, exclude, include, filterSeen) => {
        const opts = { k, exclude, include, filterSeen } as never;
        typedOrFine(() => pop.recommend(user as never, opts));
        typedOrFine(() => pop.recommendBatch(user as never, opts));
        typedOrFine(() => pop.recommendForNewUser({ items: user } as never, opts));
        typedOrFine(() => pop.similarItems(user as never, k as never));
        typedOrFine(() => base.predict(user as never, k as never));
      }),
      { numRuns: 400 },
    );
  });

  it('null optional columns and strings where arrays belong (found by the property below)', () => {
    expect(Dataset.fromArrays({ users: [1], items: [2], ratings: null, timestamps: null } as never).nnz).toBe(1);
    expect(() => Dataset.fromArrays({ users: ['', 0], items: '  ', ratings: null, timestamps: [] } as never, { duplicates: '' } as never)).toThrow(
      expect.objectContaining({ code: 'E_ARG' }),
    );
  });

  it('an option whose toString is not a function still gives E_ARG (found by the property below)', () => {
    expect(() => new BaselineOnly({ method: { toString: {} } } as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });

  it('model parameters', () => {
    fc.assert(
      fc.property(junk, junk, junk, junk, (epochs, regUser, threads, method) => {
        typedOrFine(() => new BaselineOnly({ epochs, regUser, threads, method } as never).fit(ds));
      }),
      { numRuns: 1000 },
    );
  });
});
