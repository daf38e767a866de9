// A Dataset built natively is sealed until one of its matrix arrays is handed out (ts/data/dataset.ts): a fit of
// a sealed dataset skips the native full check, since no outside code can have written to the arrays. Every way
// the arrays leave the class must unseal it, so a write through any of them is still caught by the next fit.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Dataset, IdMap, ImplicitALS, BaselineOnly } from '../../ts/index.js';
import { isSealed } from '../../ts/data/dataset.js';
import { tempDir } from '../io/helpers.js';
import { code } from '../helpers/rejection.js';

const tmp = tempDir('recsys-sealed-');
afterAll(() => tmp.remove());

function data(): Dataset {
  const users: number[] = [],
    items: number[] = [],
    ratings: number[] = [];
  for (let u = 0; u < 20; u++)
    for (let j = 0; j < 6; j++) {
      users.push(u);
      items.push((u * 7 + j * 3) % 25);
      ratings.push(1 + ((u + j) % 5));
    }
  return Dataset.fromArrays({ users, items, ratings });
}

describe('sealed datasets', () => {
  it('datasets built natively start sealed; the public constructor and withIdMaps do not', async () => {
    const ds = data();
    expect(isSealed(ds)).toBe(true);
    const path = tmp.path('r.csv');
    writeFileSync(path, 'userId,movieId,rating,timestamp\n1,1,5,0\n2,1,3,0\n2,2,4,0\n');
    expect(isSealed(await Dataset.fromFile(path, { format: 'movielens-csv' }))).toBe(true);
    const fromCsr = new Dataset(new IdMap([0]), new IdMap([0]), { rows: 1, cols: 1, indptr: new Int32Array([0, 1]), indices: new Int32Array([0]) });
    expect(isSealed(fromCsr)).toBe(false);
    // Reading sizes does not hand anything out.
    expect([ds.nnz, ds.nUsers, ds.hasRatings]).toEqual([120, 20, true]);
    expect(isSealed(ds)).toBe(true);
    // withIdMaps shares the arrays with a dataset anyone can read them from: neither is sealed.
    expect(isSealed(ds.withIdMaps(new IdMap([...ds.users.ids, 'extra']), ds.items))).toBe(false);
    expect(isSealed(ds)).toBe(false);
  });

  it('fitting a sealed dataset keeps it sealed and gives the same model as an unsealed one', () => {
    const a = data(),
      b = data();
    void b.csr; // unsealed: checked in full
    const ma = new ImplicitALS({ factors: 4, iterations: 3, threads: 1 }).fit(a);
    const mb = new ImplicitALS({ factors: 4, iterations: 3, threads: 1 }).fit(b);
    expect(isSealed(a)).toBe(true);
    expect(isSealed(b)).toBe(false);
    expect(ma.recommend(0, { k: 5 })).toEqual(mb.recommend(0, { k: 5 }));
  });

  // Each way out of the class, then a write through it: the next fit must see it.
  const exits: Array<[string, (ds: Dataset) => Int32Array]> = [
    ['csr', (ds) => ds.csr.indices],
    ['csc', (ds) => ds.csc.indices],
    ['userItems', (ds) => ds.userItems(0)],
    ['itemUsers', (ds) => ds.itemUsers(ds.csr.indices[0]!)],
    ['toCoo', (ds) => ds.toCoo().cols],
  ];
  it.each(exits)('an array handed out by %s unseals the dataset, and a write through it is refused by the next fit', async (_name, out) => {
    for (const Model of [ImplicitALS, BaselineOnly]) {
      const ds = data();
      const arr = out(ds);
      expect(isSealed(ds)).toBe(false);
      const keep = arr[0]!;
      arr[0] = 1 << 28;
      expect(code(() => new Model({ threads: 1 }).fit(ds))).toBe('E_ARG');
      await expect(new Model({ threads: 1 }).fitAsync(ds)).rejects.toMatchObject({ code: 'E_ARG' });
      arr[0] = keep;
      expect(() => new Model({ threads: 1 }).fit(ds)).not.toThrow();
    }
  });

  it('duplicates summed past the float32 range are refused when the dataset is built (a sealed fit would not see them)', () => {
    const build = () => Dataset.fromArrays({ users: [1, 1, 2], items: [1, 1, 2], ratings: [3e38, 3e38, 1] }, { duplicates: 'sum' });
    expect(code(build)).toBe('E_ARG');
    expect(() => build()).toThrow(/sum of the duplicate values of row 0, column 0/);
  });
});
