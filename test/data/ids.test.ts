// One id rule for the API, the CLI and the server (IdMap.index): the id as given, else its other form — "196"
// finds the user stored as 196 and 7 finds '7' — for canonical decimals only; a failed lookup whose cause is the
// id's type says so (issue 12, item 12).
import { describe, expect, it } from 'vitest';
import { cliId } from '../../ts/cli/common.js';
import { Dataset } from '../../ts/data/dataset.js';
import { IdMap } from '../../ts/data/idmap.js';
import { Popularity } from '../../ts/models/baseline.js';
import { resolveId } from '../../ts/serve/ids.js';
import { thrown } from '../helpers/rejection.js';

// u.data-like: numeric ids (a compact range: IdMap's typed-array lookup) and sparse ones (its Map lookup).
const numeric = Dataset.fromArrays({ users: [196, 186, 22, 196], items: [242, 302, 377, 51] });
const sparse = Dataset.fromArrays({ users: [1e9, 5, 196, 5], items: [1, 2, 3, 4] });
const strings = Dataset.fromArrays({ users: ['7', 'alice', '1.5', 'alice'], items: ['a', 'b', 'c', 'd'] });

describe('IdMap: the id rule', () => {
  it('a canonical decimal string finds the numeric id, and a number finds its string', () => {
    for (const ds of [numeric, sparse]) {
      expect(ds.users.index('196')).toBe(ds.users.index(196));
      expect(ds.users.resolve('196')).toBe(196);
    }
    expect(strings.users.index(7)).toBe(0);
    expect(strings.users.resolve(1.5)).toBe('1.5');
    expect(strings.users.index('alice')).toBe(1);
  });

  it('non-canonical forms never match', () => {
    for (const s of ['0196', '+196', '196.0', '1.96e2', ' 196', '196 ', '0xc4', '']) expect(numeric.users.index(s), s).toBe(-1);
    expect(Dataset.fromArrays({ users: ['007'], items: [1] }).users.index(7)).toBe(-1);
  });

  it('a map holding both 7 and "7" answers each exactly', () => {
    const mixed = new IdMap([7, '7', 8]);
    expect(mixed.index(7)).toBe(0);
    expect(mixed.index('7')).toBe(1);
    expect(mixed.index('8')).toBe(2);
  });

  it('indicesOf follows the same rule', () => {
    expect(Array.from(numeric.users.indicesOf(['196', 22, '22', 'x']))).toEqual([0, 2, 2, -1]);
  });
});

describe('the API, the CLI and the server agree', () => {
  const model = new Popularity().fit(numeric);

  it("model.recommend('196') answers as recommend(196)", () => {
    expect(model.recommend('196', { k: 3 })).toEqual(model.recommend(196, { k: 3 }));
    expect(model.recommendBatch(['196', 22], { k: 2 })).toEqual(model.recommendBatch([196, 22], { k: 2 }));
    expect(numeric.userIndex('196')).toBe(0);
    expect(numeric.itemIndex('242')).toBe(0);
    expect(cliId(model.trainData.users, '196', 'user')).toBe(196);
    expect(resolveId(model.trainData.users, '196')).toBe(196);
  });

  it('an id of the wrong type that matches nothing says so', () => {
    const e = thrown(() => model.recommend('abc'));
    expect(e.code).toBe('E_UNKNOWN_USER');
    expect(e.message).toBe(
      `Popularity: unknown user "abc" ("abc" is a string, not a canonical number; this model's user ids are numbers; use recommendForNewUser for fold-in)`,
    );
    expect(thrown(() => cliId(model.trainData.users, '0196', 'user')).message).toMatch(
      /"0196" is a string, not a canonical number; this model's user ids are numbers/,
    );
    expect(thrown(() => numeric.itemIndex('zz')).message).toMatch(
      /^unknown item "zz" \("zz" is a string, not a canonical number; this model's item ids are numbers\)$/,
    );
    const s = new Popularity().fit(strings);
    expect(thrown(() => s.similarUsers(true as never)).message).toMatch(/unknown user true \(true is a boolean; this model's user ids are strings\)/);
    expect(thrown(() => s.recommendBatch(['alice', null as never])).message).toMatch(
      /users\[1\]: unknown user null \(null is not an id; this model's user ids are strings\)/,
    );
    // 99 was tried as 99 and as '99': its type is not the cause, so no hint.
    expect(thrown(() => s.similarUsers(99)).message).toBe('Popularity: unknown user 99');
  });

  it('an unknown id of the right type has no type hint', () => {
    expect(thrown(() => model.recommend(5)).message).toBe('Popularity: unknown user 5 (use recommendForNewUser for fold-in)');
    expect(thrown(() => model.recommend('5')).message).toBe('Popularity: unknown user "5" (use recommendForNewUser for fold-in)');
  });
});
