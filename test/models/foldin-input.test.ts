// Fold-in and recommend options are checked, not coerced (issue 12, found by the fuzz suite): a value that cannot
// be an item id, a rating that is not a finite number, or an option of the wrong type is E_ARG naming it.
import { describe, expect, it } from 'vitest';
import { Dataset, ImplicitALS } from '../../ts/index.js';
import { code } from '../helpers/rejection.js';
import { synthetic } from '../helpers/synthetic.js';

const data = synthetic({ users: 20, items: 15, minPerUser: 3, maxPerUser: 6, seed: 5 });
const model = new ImplicitALS({ factors: 4, iterations: 3, threads: 1 }).fit(data);
const known = data.items.ids.slice(0, 3);

describe('fold-in input checks', () => {
  it.each([
    ['an item that is no id', { items: [known[0], true] }, {}],
    ['an infinite item', { items: [known[0], -Infinity] }, {}],
    ['an object item', { items: [known[0], {}] }, {}],
    ['a string rating', { items: known, ratings: [1, '5', 2] }, {}],
    ['a null rating', { items: known, ratings: [1, null, 2] }, {}],
    ['a rating beyond float32', { items: known, ratings: [1, 1e39, 2] }, {}],
    ['filterSeen not a boolean', { items: known }, { filterSeen: 'abc' }],
    ['k null', { items: known }, { k: null }],
    ['exclude not an array', { items: known }, { exclude: '' }],
    ['include false', { items: known }, { include: false }],
  ])('%s is E_ARG', (_name, input, options) => {
    expect(code(() => model.recommendForNewUser(input as never, options as never))).toBe('E_ARG');
  });

  it('valid input still folds in, unknown ids ignored, k = 0 gives an empty list', () => {
    expect(model.recommendForNewUser({ items: [...known, 'no-such-item'] }, { k: 5 })).toHaveLength(5);
    expect(model.recommendForNewUser({ items: known }, { k: 0 })).toEqual([]);
  });

  it('fromArrays with null options is E_ARG, not a TypeError', () => {
    expect(code(() => Dataset.fromArrays({ users: [1], items: [2] }, null as never))).toBe('E_ARG');
  });
});
