// Dataset.fromFile guesses the format from the file name exactly as the CLI does (one function, guessFormat),
// so `Dataset.fromFile('u.data')` works without `format` (issue 12, item 15).
import { afterAll, describe, expect, it } from 'vitest';
import { readData } from '../../ts/cli/common.js';
import { Dataset } from '../../ts/data/dataset.js';
import { guessFormat } from '../../ts/data/parse.js';
import { tempDir } from '../io/helpers.js';
import { writeFileSync } from 'node:fs';

const tmp = tempDir('recsys-guess-');
afterAll(() => tmp.remove());
const write = (name: string, text: string) => {
  const p = tmp.path(name);
  writeFileSync(p, text);
  return p;
};

describe('guessFormat', () => {
  it('maps ml-100k, ml-1m and ml-latest names; anything else is undefined', () => {
    expect(guessFormat('/x/ml-100k/u.data')).toBe('movielens-100k');
    expect(guessFormat('u1.base')).toBe('movielens-100k');
    expect(guessFormat('U1.TEST')).toBe('movielens-100k');
    expect(guessFormat('ratings.dat')).toBe('movielens-1m');
    expect(guessFormat('ratings.csv')).toBe('movielens-csv');
    expect(guessFormat('data.tsv')).toBeUndefined();
  });
});

describe('Dataset.fromFile without format', () => {
  it('reads u.data, ratings.dat and ratings.csv by their names, as the CLI does', async () => {
    const udata = write('u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n');
    const ds = await Dataset.fromFile(udata);
    expect(ds.nnz).toBe(2);
    expect(ds.users.ids).toEqual([196, 186]);
    expect(Array.from(ds.csr.times!)).toEqual([881250949, 891717742]);
    const viaCli = await readData({ data: udata });
    expect(viaCli.users.ids).toEqual(ds.users.ids);
    expect((await Dataset.fromFile(write('ratings.dat', '1::1193::5::978300760\n'))).nnz).toBe(1);
    expect((await Dataset.fromFile(write('ratings.csv', 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n'))).nnz).toBe(1);
  });

  it('a name that says nothing is E_ARG asking for format', async () => {
    await expect(Dataset.fromFile(write('data.tsv', '1\t2\n'))).rejects.toMatchObject({
      code: 'E_ARG',
      message: expect.stringMatching(/cannot tell the format of .*data\.tsv from its name; give format/),
    });
  });
});
