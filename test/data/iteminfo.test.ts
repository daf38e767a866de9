import { afterAll, describe, expect, it } from 'vitest';
import { Dataset, randomSplit } from '../../ts/index.js';
import { rejection } from '../helpers/rejection.js';
import { TempDir } from '../helpers/tmpdir.js';

const tmp = new TempDir();
afterAll(() => tmp.remove());

const latin1 = (s: string) => Buffer.from(s, 'latin1');

async function ratings(text: string, format: 'movielens-100k' | 'movielens-1m' = 'movielens-100k') {
  return Dataset.fromFile(tmp.file(text), { format });
}

describe('item metadata', () => {
  it('decodes ml-100k u.item (latin-1, | fields, genre flags) and ignores items without interactions', async () => {
    const ds = await ratings('1\t2\t5\t1\n1\t3\t4\t1\n2\t7\t1\t1\n');
    const flags = (on: number[]) => Array.from({ length: 19 }, (_, g) => (on.includes(g) ? '1' : '0')).join('|');
    const path = tmp.file(
      latin1(
        `2|Caf\xe9 Society (1999)|01-Jan-1999||http://x/caf%E9|${flags([5, 14])}\n` +
          `3|Les Mis\xe9rables (1995)|||http://x/m|${flags([8])}\n` +
          `4|Not rated|01-Jan-1990||http://x/n|${flags([1])}\n`,
      ),
    );
    await ds.loadItemInfo(path, { format: 'movielens-100k' });
    expect(ds.itemInfo).toHaveLength(3);
    expect(ds.itemInfo![ds.itemIndex(2)]).toEqual({
      title: 'Café Society (1999)',
      genres: ['Comedy', 'Romance'],
      year: 1999,
      releaseDate: '01-Jan-1999',
      url: 'http://x/caf%E9',
    });
    expect(ds.itemTitle(ds.itemIndex(3))).toBe('Les Misérables (1995)');
    expect(ds.itemInfo![ds.itemIndex(3)]!.genres).toEqual(['Drama']);
    // item 7 has interactions but no metadata: its title falls back to the id
    expect(ds.itemInfo![ds.itemIndex(7)]).toBeUndefined();
    expect(ds.itemTitle(ds.itemIndex(7))).toBe('7');
  });

  it('decodes ml-1m movies.dat (latin-1, ::)', async () => {
    const ds = await ratings('1::10::5::1\n2::20::3::1\n', 'movielens-1m');
    const path = tmp.file(latin1("10::Am\xe9lie (2001)::Comedy|Romance\n20::Bront\xeb's Sisters (1979)::Drama\n30::Other (2000)::Drama\n"));
    await ds.loadItemInfo(path, { format: 'movielens-1m' });
    expect(ds.itemInfo).toEqual([
      { title: 'Amélie (2001)', genres: ['Comedy', 'Romance'], year: 2001 },
      { title: "Brontë's Sisters (1979)", genres: ['Drama'], year: 1979 },
    ]);
  });

  it('decodes ml-latest movies.csv (UTF-8, quoted titles with commas and quotes, BOM, CRLF)', async () => {
    const ds = await ratings('1\t11\t5\t1\n1\t29\t4\t1\n1\t40\t4\t1\n1\t50\t4\t1\n');
    const path = tmp.file(
      '\uFEFFmovieId,title,genres\r\n' +
        '11,"American President, The (1995)",Comedy|Drama|Romance\r\n' +
        '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama\r\n' +
        '40,"The ""Quoted"" One (2001) ",(no genres listed)\r\n' +
        '50,"Two\r\nLines (2002)",Drama\r\n',
    );
    await ds.loadItemInfo(path, { format: 'movielens-csv' });
    expect(ds.itemTitle(0)).toBe('American President, The (1995)');
    expect(ds.itemInfo![0]!.genres).toEqual(['Comedy', 'Drama', 'Romance']);
    expect(ds.itemTitle(1)).toBe('City of Lost Children, The (Cité des enfants perdus, La) (1995)');
    expect(ds.itemInfo![2]).toEqual({ title: 'The "Quoted" One (2001)', genres: [], year: 2001 });
    expect(ds.itemTitle(3)).toBe('Two\nLines (2002)');
  });

  it('is kept by splits (they share the id maps)', async () => {
    const ds = await ratings('1\t10\t5\t1\n1\t20\t3\t1\n2\t10\t4\t1\n2\t20\t2\t1\n');
    await ds.loadItemInfo(tmp.file('10::Ten (2000)::Drama\n20::Twenty (2001)::Comedy\n'), { format: 'movielens-1m' });
    const { train, test } = randomSplit(ds, { testFraction: 0.5, seed: 1 });
    expect(train.itemTitle(ds.itemIndex(20))).toBe('Twenty (2001)');
    expect(test.itemInfo).toBe(ds.itemInfo);
  });

  it('matches string item ids', async () => {
    const ds = await Dataset.fromFile(tmp.file('u,007,1\n'), { columns: { user: 0, item: 1 } });
    await ds.loadItemInfo(tmp.file('movieId,title,genres\n007,Bond (1962),Action\n7,Other (1990),Drama\n'), { format: 'movielens-csv' });
    expect(ds.itemInfo).toEqual([{ title: 'Bond (1962)', genres: ['Action'], year: 1962 }]);
  });

  it('reports malformed and missing files', async () => {
    const ds = await ratings('1\t2\t5\t1\n');
    const bad = tmp.file('2|only two\n');
    const e = await rejection(ds.loadItemInfo(bad, { format: 'movielens-100k' }));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toContain(`${bad}:1: `);
    const open = tmp.file('movieId,title,genres\n2,"never closed,Drama\n');
    expect((await rejection(ds.loadItemInfo(open, { format: 'movielens-csv' }))).message).toContain(`${open}:2: `);
    const three = tmp.file('movieId,title,genres\n2,a,b,c\n');
    expect((await rejection(ds.loadItemInfo(three, { format: 'movielens-csv' }))).message).toContain(`${three}:2: expected 3 fields`);
    const missing = `${tmp.dir}/none.item`;
    const m = await rejection(ds.loadItemInfo(missing, { format: 'movielens-100k' }));
    expect(m.code).toBe('E_IO');
    expect(m.message).toContain(missing);
    expect((await rejection(ds.loadItemInfo(tmp.dir, { format: 'movielens-1m' }))).code).toBe('E_IO');
    expect((await rejection(ds.loadItemInfo(bad, { format: 'imdb' as never }))).code).toBe('E_ARG');
  });
});
