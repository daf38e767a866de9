import { afterAll, describe, expect, it } from 'vitest';
import { Dataset, RecsysError } from '../../ts/index.js';
import { rejection } from '../helpers/rejection.js';
import { TempDir } from '../helpers/tmpdir.js';
import { expectMatchesReference, refParse, type RefOptions } from './reference.js';

const tmp = new TempDir();
afterAll(() => tmp.remove());

describe('Dataset.fromFile formats', () => {
  it('reads movielens-100k (tab separated)', async () => {
    const path = tmp.file('196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n');
    const ds = await Dataset.fromFile(path, { format: 'movielens-100k' });
    expect(ds.users.ids).toEqual([196, 186]);
    expect(ds.items.ids).toEqual([242, 302, 377]);
    expect(Array.from(ds.csr.indptr)).toEqual([0, 2, 3]);
    expect(Array.from(ds.csr.indices)).toEqual([0, 2, 1]);
    expect(Array.from(ds.csr.data!)).toEqual([3, 1, 3]);
    expect(Array.from(ds.csr.times!)).toEqual([881250949, 878887116, 891717742]);
    expect(ds.userIndex(186)).toBe(1);
  });

  it('reads movielens-1m (:: separated)', async () => {
    const path = tmp.file('1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413');
    const ds = await Dataset.fromFile(path, { format: 'movielens-1m' });
    expect(ds.users.ids).toEqual([1, 2]);
    expect(ds.items.ids).toEqual([1193, 661]);
    expect(Array.from(ds.csr.data!)).toEqual([5, 3, 4]);
    expect(ds.nnz).toBe(3);
  });

  it('reads movielens-csv with a BOM, CRLF line ends and the header', async () => {
    const path = tmp.file('\uFEFFuserId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.5,964981247\r\n\r\n2,1,0.5,964982224\r\n');
    const ds = await Dataset.fromFile(path, { format: 'movielens-csv' });
    expect(ds.users.ids).toEqual([1, 2]);
    expect(ds.items.ids).toEqual([1, 3]);
    expect(Array.from(ds.csr.data!)).toEqual([4, 4.5, 0.5]);
    expect(Array.from(ds.csr.times!)).toEqual([964982703, 964981247, 964982224]);
  });

  it('reads delimited text with a column mapping and string ids', async () => {
    const path = tmp.file('book-1;5;alice\nbook-2;3;bob\nbook-1;4;bob\n');
    const ds = await Dataset.fromFile(path, { delimiter: ';', columns: { user: 2, item: 0, rating: 1 } });
    expect(ds.users.ids).toEqual(['alice', 'bob']);
    expect(ds.items.ids).toEqual(['book-1', 'book-2']);
    expect(Array.from(ds.csr.indptr)).toEqual([0, 1, 3]);
    expect(Array.from(ds.csr.data!)).toEqual([5, 4, 3]);
    expect(ds.hasTimestamps).toBe(false);
    // without a rating column the data is implicit
    const implicit = await Dataset.fromFile(path, { delimiter: ';', columns: { user: 2, item: 0 } });
    expect(implicit.hasRatings).toBe(false);
    expect(implicit.nnz).toBe(3);
  });

  it('finds named columns in the header (header detected from the names) and unquotes fields', async () => {
    const path = tmp.file('when,what,score,who\n5,"x, the first",2.5, u1 \n6,"say ""hi""",1,u2\n');
    const ds = await Dataset.fromFile(path, { columns: { user: 'who', item: 'what', rating: 'score', timestamp: 'when' } });
    expect(ds.users.ids).toEqual(['u1', 'u2']);
    expect(ds.items.ids).toEqual(['x, the first', 'say "hi"']);
    expect(Array.from(ds.csr.times!)).toEqual([5, 6]);
    // header: true with field indices skips the first line
    const byIndex = await Dataset.fromFile(path, { header: true, columns: { user: 3, item: 1 } });
    expect(byIndex.users.ids).toEqual(['u1', 'u2']);
  });

  it('parses lines split across 1 MiB chunks and a line longer than a chunk like the reference', async () => {
    const lines: string[] = [];
    for (let k = 0; k < 40000; k++) lines.push(`user-${k % 997}-${'x'.repeat(k % 50)},item-${(k * 7919) % 3001},${(k % 9) / 2},${1e9 + k}`);
    lines.splice(20000, 0, `${'u'.repeat(1_500_000)},long-item,1,2`);
    const text = lines.join('\r\n');
    const path = tmp.file(text);
    const opts: RefOptions = { delimiter: ',', quote: true, header: false, fields: 0, columns: { user: 0, item: 1, rating: 2, timestamp: 3 } };
    const ref = refParse(Buffer.from(text), opts);
    expect(ref.ok).toBe(true);
    const ds = await Dataset.fromFile(path, { columns: opts.columns });
    expectMatchesReference(ds, ref as Extract<typeof ref, { ok: true }>);
  });

  it('runs several parses at once', async () => {
    const a = tmp.file('1\t2\t3\t4\n');
    const b = tmp.file('5\t6\t7\t8\n9\t6\t1\t2\n');
    const [x, y, z] = await Promise.all([
      Dataset.fromFile(a, { format: 'movielens-100k' }),
      Dataset.fromFile(b, { format: 'movielens-100k' }),
      Dataset.fromFile(a, { format: 'movielens-100k' }),
    ]);
    expect([x.nnz, y.nnz, z.nnz]).toEqual([1, 2, 1]);
    expect(y.users.ids).toEqual([5, 9]);
  });
});

describe('numeric and string ids', () => {
  it('keeps numbers while every id is a canonical safe integer', async () => {
    const ds = await Dataset.fromFile(tmp.file('-3\t0\t1\t1\n9007199254740991\t5\t1\t1\n'), { format: 'movielens-100k' });
    expect(ds.users.ids).toEqual([-3, 9007199254740991]);
    expect(ds.items.ids).toEqual([0, 5]);
  });

  it.each(['007', '+7', '-0', '9007199254740992', '7.0', '1e3', 'x'])('switches a column to strings at %s, earlier ids keep their text', async (tok) => {
    const ds = await Dataset.fromFile(tmp.file(`1\t7\t1\t1\n2\t12\t1\t1\n3\t${tok}\t1\t1\n4\t7\t1\t1\n`), { format: 'movielens-100k' });
    expect(ds.users.ids).toEqual([1, 2, 3, 4]);
    expect(ds.items.ids).toEqual(['7', '12', tok]);
    expect(ds.itemIndex('7')).toBe(0);
    expect(Array.from(ds.userItems(3))).toEqual([0]);
  });
});

describe('duplicates', () => {
  const text = 'u1,i1,1,10\nu1,i2,2,11\nu1,i1,5,12\nu2,i1,3,13\nu1,i1,2,14\n';
  const columns = { user: 0, item: 1, rating: 2, timestamp: 3 };

  it.each([
    ['last', [2, 2, 3], [14, 11, 13], 2],
    ['sum', [8, 2, 3], [14, 11, 13], 2],
    ['max', [5, 2, 3], [12, 11, 13], 2],
  ] as const)('merges with %s', async (policy, values, times, merged) => {
    const ds = await Dataset.fromFile(tmp.file(text), { columns, duplicates: policy });
    expect(Array.from(ds.csr.data!)).toEqual(values);
    expect(Array.from(ds.csr.times!)).toEqual(times);
    expect(ds.duplicatesMerged).toBe(merged);
  });

  it("with 'error' names the file, both lines and the external ids", async () => {
    const path = tmp.file(text);
    const err = await rejection(Dataset.fromFile(path, { columns, duplicates: 'error' }));
    expect(err.code).toBe('E_DUPLICATE');
    expect(err.message).toContain(`${path}:3:`);
    expect(err.message).toContain(`${path}:1`);
    expect(err.message).toContain('user "u1"');
    expect(err.message).toContain('item "i1"');
    const numeric = tmp.file('5\t9\t1\t1\n\n6\t9\t1\t1\n5\t9\t2\t2\n');
    const e2 = await rejection(Dataset.fromFile(numeric, { format: 'movielens-100k', duplicates: 'error' }));
    expect(e2.message).toMatch(new RegExp(`${numeric}:4: duplicate interaction of user 5 with item 9 .*${numeric}:1\\b`));
  });
});

describe('errors', () => {
  it.each([
    ['1\t2\t3\t4\n1\t2\t3\n', 2, /expected 4 fields/],
    ['1\t2\t3\t4\n1,2,3,4\n', 2, /expected 4 fields/],
    ['1\t2\t3\t4\n\n1\t2\tx\t4\n', 3, /rating 'x' is not a number/],
    ['1\t2\tNaN\t4\n', 1, /rating 'NaN' is not a number/],
    ['1\t2\tInfinity\t4\n', 1, /rating 'Infinity' is not a number/],
    ['1\t2\t1e400\t4\n', 1, /not a finite/],
    ['1\t2\t1e39\t4\n', 1, /not a finite float32/],
    ['1\t2\t3\t2020-01-01\n', 1, /timestamp '2020-01-01' is not a number/],
    ['1\t2\t3\t\n', 1, /timestamp '' is not a number/],
    ['\t2\t3\t4\n', 1, /empty user id/],
    ['a\xff\t2\t3\t4\n', 1, /user id .* is not valid UTF-8/],
  ])('E_PARSE with path:line for %j', async (text, line, why) => {
    const path = tmp.file(Buffer.from(text, 'latin1'));
    const err = await rejection(Dataset.fromFile(path, { format: 'movielens-100k' }));
    expect(err.code).toBe('E_PARSE');
    expect(err.message).toContain(`${path}:${line}: `);
    expect(err.message).toMatch(why);
  });

  it('E_PARSE for quoting and header problems', async () => {
    const open = tmp.file('a,"b,1\n');
    expect((await rejection(Dataset.fromFile(open, { columns: { user: 0, item: 1 } }))).message).toContain(`${open}:1: a quoted field has no closing quote`);
    const after = tmp.file('a,"b"c,1\n');
    expect((await rejection(Dataset.fromFile(after, { columns: { user: 0, item: 1 } }))).message).toContain(`${after}:1: unexpected text after`);
    const hdr = tmp.file('\n\nuser,item\n1,2\n');
    const e = await rejection(Dataset.fromFile(hdr, { columns: { user: 'user', item: 'movie' } }));
    expect(e.message).toContain(`${hdr}:3: the header has no item column 'movie'`);
    const csv = tmp.file('user,movie,rating,timestamp\n1,2,3,4\n');
    expect((await rejection(Dataset.fromFile(csv, { format: 'movielens-csv' }))).message).toContain(`${csv}:1: the header has no user column 'userId'`);
  });

  it('E_IO for a missing file or a directory', async () => {
    const missing = `${tmp.dir}/nope.data`;
    const e = await rejection(Dataset.fromFile(missing, { format: 'movielens-100k' }));
    expect(e.code).toBe('E_IO');
    expect(e.message).toContain(missing);
    expect((await rejection(Dataset.fromFile(tmp.dir, { format: 'movielens-100k' }))).code).toBe('E_IO');
  });

  it.each([[''], ['\n\n  \n'], ['\uFEFF'], ['userId,movieId,rating,timestamp\r\n']])('E_EMPTY for %j', async (text) => {
    const path = tmp.file(text);
    const e = await rejection(Dataset.fromFile(path, { format: text.startsWith('user') ? 'movielens-csv' : 'movielens-100k' }));
    expect(e.code).toBe('E_EMPTY');
    expect(e.message).toContain(path);
  });

  it('E_ARG for bad options', async () => {
    const path = tmp.file('1,2\n');
    const bad: unknown[] = [
      {},
      { format: 'movielens-2m' },
      { format: 'movielens-100k', delimiter: ',' },
      { columns: { user: 0 } },
      { columns: { user: 0, item: 0 } },
      { columns: { user: -1, item: 1 } },
      { columns: { user: 0, item: 1 }, delimiter: '' },
      { columns: { user: 0, item: 1 }, delimiter: 'a\nb' },
      { columns: { user: 'u', item: 1 }, header: false },
      { columns: { user: 0, item: 1 }, duplicates: 'first' },
      { columns: { user: 0, item: 1 }, delimiter: '"', quote: true },
      { columns: { user: 0, item: 1 }, extend: { users: [1], items: [2] } },
    ];
    for (const o of bad) expect((await rejection(Dataset.fromFile(path, o as never))).code).toBe('E_ARG');
  });
});

describe('extending id maps (a test file read against its training file)', () => {
  it('keeps known indices, appends new ids and aligns the training set', async () => {
    const train = await Dataset.fromFile(tmp.file('1\t10\t5\t1\n2\t20\t3\t1\n'), { format: 'movielens-100k' });
    const test = await Dataset.fromFile(tmp.file('2\t10\t4\t1\n3\t30\t2\t1\n'), {
      format: 'movielens-100k',
      extend: { users: train.users, items: train.items },
    });
    expect(test.users.ids).toEqual([1, 2, 3]);
    expect(test.items.ids).toEqual([10, 20, 30]);
    expect(Array.from(test.csr.indptr)).toEqual([0, 0, 1, 2]);
    const aligned = train.withIdMaps(test.users, test.items);
    expect(aligned.users).toBe(test.users);
    expect(aligned.nUsers).toBe(3);
    expect(aligned.nItems).toBe(3);
    expect(Array.from(aligned.csr.indptr)).toEqual([0, 1, 2, 2]);
    expect(aligned.csr.indices).toBe(train.csr.indices);
    // nothing new: the same maps are reused
    const same = await Dataset.fromFile(tmp.file('1\t20\t1\t1\n'), { format: 'movielens-100k', extend: { users: train.users, items: train.items } });
    expect(same.users).toBe(train.users);
    expect(train.withIdMaps(same.users, same.items)).toBe(train);
  });

  it('turns known numeric ids into text when the new file needs string ids', async () => {
    const train = await Dataset.fromFile(tmp.file('1\t10\t5\t1\n'), { format: 'movielens-100k' });
    const test = await Dataset.fromFile(tmp.file('x\t10\t4\t1\n'), { format: 'movielens-100k', extend: { users: train.users, items: train.items } });
    expect(test.users.ids).toEqual(['1', 'x']);
    expect(test.items).toBe(train.items);
    const aligned = train.withIdMaps(test.users, test.items);
    expect(aligned.userIndex('1')).toBe(0);
    expect(() => train.withIdMaps(train.items, train.items)).toThrow(RecsysError);
  });
});
