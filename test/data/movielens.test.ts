import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectMovieLens, findDatasetDir, loadMovieLens, loadPredefinedFolds } from '../../ts/index.js';
import { rejection } from '../helpers/rejection.js';
import { TempDir } from '../helpers/tmpdir.js';

const tmp = new TempDir();
afterAll(() => tmp.remove());

function folder(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(join(dir, f), content);
  return dir;
}

const flags = '|0'.repeat(19);

describe('finding datasets', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.RECSYS_DATA_DIR;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.RECSYS_DATA_DIR;
    else process.env.RECSYS_DATA_DIR = saved;
  });

  it('looks in RECSYS_DATA_DIR first, then ../shared/datasets, and says where it looked', () => {
    const root = join(tmp.dir, 'data-root');
    folder('data-root/ml-tiny', { 'u.data': '1\t1\t1\t1\n' });
    process.env.RECSYS_DATA_DIR = root;
    const found = findDatasetDir('ml-tiny');
    expect(found.dir).toBe(join(root, 'ml-tiny'));
    expect(found.searched[0]).toBe(join(root, 'ml-tiny'));
    const missing = findDatasetDir('ml-none');
    expect(missing.dir).toBeUndefined();
    expect(missing.searched).toContain(join(root, 'ml-none'));
    expect(missing.searched).toContain(resolve(process.cwd(), '..', 'shared', 'datasets', 'ml-none'));
  });

  it('loads by name through the search, and fails with E_IO listing the places', async () => {
    process.env.RECSYS_DATA_DIR = join(tmp.dir, 'by-name');
    folder('by-name/ml-small', { 'u.data': '1\t5\t3\t1\n2\t5\t4\t1\n', 'u.item': `5|Five (2000)|||${flags}\n` });
    const ds = await loadMovieLens('ml-small');
    expect(ds.nUsers).toBe(2);
    expect(ds.itemTitle(0)).toBe('Five (2000)');
    const e = await rejection(loadMovieLens('ml-absent'));
    expect(e.code).toBe('E_IO');
    expect(e.message).toContain(join(tmp.dir, 'by-name', 'ml-absent'));
    expect((await rejection(loadMovieLens(join(tmp.dir, 'no', 'such')))).code).toBe('E_IO');
    expect((await rejection(loadMovieLens(folder('empty', {})))).message).toMatch(/does not look like a MovieLens folder/);
  });
});

describe('loadMovieLens layouts', () => {
  it('detects ml-100k, ml-latest and ml-1m folders and attaches titles', async () => {
    const a = folder('a', { 'u.data': '1\t5\t3\t1\n', 'u.item': Buffer.from(`5|Caf\xe9 (2000)|||${flags}\n`, 'latin1') });
    const b = folder('b', {
      'ratings.csv': 'userId,movieId,rating,timestamp\r\n1,5,3.5,1\r\n',
      'movies.csv': 'movieId,title,genres\r\n5,"Five, The (2000)",Drama\r\n',
    });
    const c = folder('c', { 'ratings.partial-users-1-2.dat': '1::5::3::1\n2::6::4::2\n', 'movies.dat': Buffer.from('5::M\xfc (1999)::Drama\n', 'latin1') });
    expect(detectMovieLens(a)?.layout).toBe('ml-100k');
    expect(detectMovieLens(b)?.layout).toBe('ml-latest');
    expect(detectMovieLens(c)?.layout).toBe('ml-1m');
    expect((await loadMovieLens(a)).itemTitle(0)).toBe('Café (2000)');
    const dsb = await loadMovieLens(b);
    expect(Array.from(dsb.csr.data!)).toEqual([3.5]);
    expect(dsb.itemTitle(0)).toBe('Five, The (2000)');
    const dsc = await loadMovieLens(c);
    expect(dsc.nnz).toBe(2);
    expect(dsc.itemTitle(0)).toBe('Mü (1999)');
    expect(dsc.itemTitle(1)).toBe('6');
    expect((await loadMovieLens(c, { itemInfo: false })).itemInfo).toBeUndefined();
  });
});

describe('predefined folds', () => {
  it('aligns train and test on shared id maps; test-only ids come after the training ones', async () => {
    const dir = folder('folds', {
      'u1.base': '1\t10\t5\t1\n2\t20\t3\t2\n1\t20\t4\t3\n',
      'u1.test': '2\t10\t4\t4\n3\t30\t2\t5\n1\t40\t1\t6\n',
      'u2.base': '3\t30\t1\t1\n',
      'u2.test': '1\t10\t1\t1\n',
      'u.item': `10|Ten (2000)|||${flags}\n40|Forty (1990)|||${flags}\n`,
    });
    const folds = await loadPredefinedFolds(dir, { names: ['u1', 'u2'] });
    expect(folds.map((f) => f.name)).toEqual(['u1', 'u2']);
    const { train, test } = folds[0]!;
    expect(train.users).toBe(test.users);
    expect(train.items).toBe(test.items);
    expect(train.users.ids).toEqual([1, 2, 3]);
    expect(train.items.ids).toEqual([10, 20, 30, 40]);
    expect(train.nnz).toBe(3);
    expect(test.nnz).toBe(3);
    // user 3 and items 30, 40 only occur in the test file: empty training rows / columns
    expect(train.userItems(train.userIndex(3))).toHaveLength(0);
    expect(Array.from(train.userItems(train.userIndex(1))).map((i) => train.items.id(i))).toEqual([10, 20]);
    expect(Array.from(test.userItems(test.userIndex(1))).map((i) => test.items.id(i))).toEqual([40]);
    expect(train.itemUsers(train.itemIndex(30))).toHaveLength(0);
    expect(train.itemTitle(train.itemIndex(40))).toBe('Forty (1990)');
    expect(test.itemInfo).toBe(train.itemInfo);
    // each fold has its own maps
    expect(folds[1]!.train.users.ids).toEqual([3, 1]);
    const e = await rejection(loadPredefinedFolds(dir, { names: ['u3'] }));
    expect(e.code).toBe('E_IO');
  });
});

describe('MovieLens data (shared datasets)', () => {
  const ml100k = findDatasetDir('ml-100k');
  if (!ml100k.dir) console.log(`skipping ML-100K checks: ml-100k not found; looked in ${ml100k.searched.join(', ')}`);
  it.skipIf(!ml100k.dir)('ML-100K has 943 users, 1682 items, 100000 ratings, titles; u1 is 80000/20000', async () => {
    const ds = await loadMovieLens(ml100k.dir!);
    expect([ds.nUsers, ds.nItems, ds.nnz]).toEqual([943, 1682, 100000]);
    expect(ds.itemTitle(ds.itemIndex(1))).toBe('Toy Story (1995)');
    expect(ds.stats().ratingHistogram).toEqual({ 1: 6110, 2: 11370, 3: 27145, 4: 34174, 5: 21201 });
    const [u1] = await loadPredefinedFolds(ml100k.dir!, { names: ['u1'] });
    expect([u1!.train.nnz, u1!.test.nnz]).toEqual([80000, 20000]);
    expect(u1!.train.users).toBe(u1!.test.users);
    expect(u1!.train.nUsers).toBe(943);
    expect(u1!.train.nItems).toBe(1682);
  });

  const latest = findDatasetDir('ml-latest-small');
  const ml1m = findDatasetDir('ml-1m');
  if (!latest.dir || !ml1m.dir) console.log(`skipping ml-latest-small / ml-1m checks: looked in ${[...latest.searched, ...ml1m.searched].join(', ')}`);
  it.skipIf(!latest.dir || !ml1m.dir)('ml-latest-small and the partial ml-1m load with their published counts', async () => {
    const small = await loadMovieLens(latest.dir!);
    expect([small.nUsers, small.nItems, small.nnz]).toEqual([610, 9724, 100836]);
    expect(small.itemTitle(small.itemIndex(11))).toBe('American President, The (1995)');
    const one = await loadMovieLens(ml1m.dir!);
    expect([one.nUsers, one.nItems, one.nnz]).toEqual([2999, 3615, 487650]);
  });
});
