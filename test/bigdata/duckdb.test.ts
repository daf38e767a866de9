// The DuckDB ingestion path against Dataset.fromArrays and plain TS computations on the same generated data.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, FactorModel, RecsysError, exportParquet, exportSparkALS, loadSparkALS, perUserSplit, type Id } from '../../ts/index.js';
import { withDuckDB } from '../../ts/data/duckdb.js';
import { mulberry32 } from '../helpers/random.js';
import { rejection } from '../helpers/rejection.js';
import { TempDir } from '../helpers/tmpdir.js';

const tmp = new TempDir();
afterAll(() => tmp.remove());

interface Raw {
  users: Id[];
  items: Id[];
  ratings: number[];
  times: number[];
}

/** Interactions with repeated pairs (about one in six), ratings 1..5 in halves, distinct times. */
function rawData(n: number, seed: number, stringUsers = false): Raw {
  const rnd = mulberry32(seed);
  const raw: Raw = { users: [], items: [], ratings: [], times: [] };
  for (let p = 0; p < n; p++) {
    const u = Math.floor(rnd() ** 2 * 40);
    const i = Math.floor(rnd() ** 2 * 25) * 3 + 100;
    raw.users.push(stringUsers ? `u${u}` : u);
    raw.items.push(i);
    raw.ratings.push(1 + Math.floor(rnd() * 9) / 2);
    raw.times.push(1_600_000_000 + p * 37);
  }
  return raw;
}

function csvText(r: Raw, from = 0, to = r.users.length): string {
  const lines = ['user,item,rating,timestamp'];
  for (let p = from; p < to; p++) lines.push(`${r.users[p]},${r.items[p]},${r.ratings[p]},${r.times[p]}`);
  return lines.join('\n') + '\n';
}

/** (user id, item id) -> [value, time], the dataset's content independent of dense-id order. */
function content(ds: Dataset): Map<string, [number | undefined, number | undefined]> {
  const m = new Map<string, [number | undefined, number | undefined]>();
  const { indptr, indices, data, times } = ds.csr;
  for (let u = 0; u < ds.nUsers; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      m.set(JSON.stringify([ds.users.id(u), ds.items.id(indices[p]!)]), [data?.[p], times?.[p]]);
    }
  }
  return m;
}

function sortedIds(ids: readonly Id[]): Id[] {
  return [...ids].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)))));
}

/** Same interactions and the same id sets; the DuckDB side numbers ids in ascending order. */
function expectSame(duck: Dataset, ref: Dataset): void {
  expect(duck.nnz).toBe(ref.nnz);
  expect(duck.users.ids).toEqual(sortedIds(ref.users.ids));
  expect(duck.items.ids).toEqual(sortedIds(ref.items.ids));
  expect(content(duck)).toEqual(content(ref));
  expect(duck.duplicatesMerged).toBe(ref.duplicatesMerged);
}

/** Writes CSV files as Parquet with DuckDB (the test's own fixture step). */
async function toParquet(csv: string, parquet: string): Promise<void> {
  await withDuckDB({ threads: 1 }, (db) => db.run(`COPY (SELECT * FROM read_csv('${csv}')) TO '${parquet}' (FORMAT PARQUET)`));
}

describe('Dataset.fromParquet / fromCsv / fromQuery', () => {
  const raw = rawData(600, 7);
  const half = 300;
  let csvA: string;
  let pqDir: string;
  beforeAll(async () => {
    csvA = tmp.file(csvText(raw), 'all.csv');
    // Two Parquet files: input order is file order, then row order within a file.
    pqDir = join(tmp.dir, 'pq');
    const a = tmp.file(csvText(raw, 0, half), 'a.csv');
    const b = tmp.file(csvText(raw, half), 'b.csv');
    await withDuckDB({}, async () => undefined); // DuckDB loads
    const { mkdirSync } = await import('node:fs');
    mkdirSync(pqDir);
    await toParquet(a, join(pqDir, 'part-0.parquet'));
    await toParquet(b, join(pqDir, 'part-1.parquet'));
  });

  for (const duplicates of ['last', 'sum', 'max'] as const) {
    it(`agree with fromArrays on the same rows (duplicates: '${duplicates}')`, async () => {
      const ref = Dataset.fromArrays({ users: raw.users, items: raw.items, ratings: raw.ratings, timestamps: raw.times }, { duplicates });
      expect(ref.duplicatesMerged).toBeGreaterThan(20);
      expectSame(await Dataset.fromCsv(csvA, { duplicates, threads: 2 }), ref);
      expectSame(await Dataset.fromParquet(join(pqDir, '*.parquet'), { duplicates, threads: 2 }), ref);
      expectSame(await Dataset.fromParquet(pqDir, { duplicates }), ref);
      expectSame(
        await Dataset.fromQuery(`SELECT "user", item, rating, "timestamp" FROM read_parquet('${pqDir}/*.parquet') ORDER BY file_index, file_row_number`, {
          duplicates,
        }),
        ref,
      );
    });
  }

  it('without ratings or times, pairs are just deduplicated; a column mapping picks and renames', async () => {
    const ref = Dataset.fromArrays({ users: raw.items, items: raw.users });
    const duck = await Dataset.fromCsv(csvA, { columns: { user: 'item', item: 0 } });
    expect(duck.hasRatings).toBe(false);
    expectSame(duck, ref);
  });

  it('string ids are numbered in byte order; TIMESTAMP columns become epoch seconds', async () => {
    const s = rawData(200, 3, true);
    const ref = Dataset.fromArrays({ users: s.users, items: s.items, ratings: s.ratings, timestamps: s.times });
    const f = tmp.file(csvText(s), 'strings.csv');
    const duck = await Dataset.fromCsv(f);
    expectSame(duck, ref);
    expect(duck.users.ids.every((id) => typeof id === 'string')).toBe(true);
    const q = await Dataset.fromQuery(`SELECT "user", item, rating, to_timestamp("timestamp") AS "timestamp" FROM read_csv('${f}')`);
    expectSame(q, ref);
  });

  it('where and the minimum-interaction filters match a plain TS computation', async () => {
    const ref = Dataset.fromArrays({ users: raw.users, items: raw.items, ratings: raw.ratings, timestamps: raw.times });
    // TS reference: deduplicated pairs (last wins), rating >= 2, then users with >= 4 items and items with >= 3 users,
    // both counted on those pairs.
    const pairs = [...content(ref).entries()].map(([k, v]) => [JSON.parse(k) as [Id, Id], v] as const).filter(([, v]) => v[0]! >= 2);
    const uCount = new Map<Id, number>();
    const iCount = new Map<Id, number>();
    for (const [[u, i]] of pairs) {
      uCount.set(u, (uCount.get(u) ?? 0) + 1);
      iCount.set(i, (iCount.get(i) ?? 0) + 1);
    }
    const kept = pairs.filter(([[u, i]]) => uCount.get(u)! >= 4 && iCount.get(i)! >= 3);
    // 'where' runs before deduplication, so the reference has to apply it to the raw rows too.
    const keep = raw.ratings.map((r) => r >= 2);
    const refW = Dataset.fromArrays({
      users: raw.users.filter((_, p) => keep[p]),
      items: raw.items.filter((_, p) => keep[p]),
      ratings: raw.ratings.filter((_, p) => keep[p]),
      timestamps: raw.times.filter((_, p) => keep[p]),
    });
    const pairsW = [...content(refW).entries()].map(([k, v]) => [JSON.parse(k) as [Id, Id], v] as const);
    uCount.clear();
    iCount.clear();
    for (const [[u, i]] of pairsW) {
      uCount.set(u, (uCount.get(u) ?? 0) + 1);
      iCount.set(i, (iCount.get(i) ?? 0) + 1);
    }
    const keptW = pairsW.filter(([[u, i]]) => uCount.get(u)! >= 4 && iCount.get(i)! >= 3);
    expect(keptW.length).toBeLessThan(pairsW.length);
    expect(kept.length).toBeGreaterThan(0);

    const duck = await Dataset.fromParquet(pqDir, { where: 'rating >= 2', minUserInteractions: 4, minItemInteractions: 3 });
    expect(new Map([...content(duck)])).toEqual(new Map(keptW.map(([k, v]) => [JSON.stringify(k), v])));
    expect(duck.users.ids).toEqual(sortedIds([...new Set(keptW.map(([[u]]) => u))]));
    expect(duck.items.ids).toEqual(sortedIds([...new Set(keptW.map(([[, i]]) => i))]));
    for (let u = 0; u < duck.nUsers; u++) expect(duck.userItems(u).length).toBeGreaterThan(0);
  });

  it('export -> fromParquet round-trips a dataset and a split (ids keep their types)', async () => {
    const s = rawData(400, 11, true);
    const ds = Dataset.fromArrays({ users: s.users, items: s.items, ratings: s.ratings, timestamps: s.times });
    const dir = join(tmp.dir, 'export');
    const r = await exportParquet(ds, dir, { partitions: 3 });
    expect(r.rows).toBe(ds.nnz);
    expect(r.files.length).toBe(3);
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.parquet'))
        .sort(),
    ).toEqual(['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);
    const back = await Dataset.fromParquet(dir);
    expect(back.nnz).toBe(ds.nnz);
    expect(back.duplicatesMerged).toBe(0);
    expect(content(back)).toEqual(content(ds));
    expect(back.items.ids.every((id) => typeof id === 'number')).toBe(true);
    // A user's rows are in one file.
    const perFile = await Promise.all(r.files.map((f) => Dataset.fromParquet(f)));
    const seen = new Set<Id>();
    for (const part of perFile)
      for (const u of part.users.ids) {
        expect(seen.has(u) ? u : undefined).toBeUndefined();
        seen.add(u);
      }
    expect(seen.size).toBe(ds.nUsers);

    await expect(exportParquet(ds, dir)).rejects.toMatchObject({ code: 'E_IO' });
    await exportParquet(ds, dir, { overwrite: true });
    expect(readdirSync(dir).filter((f) => f.endsWith('.parquet'))).toEqual(['part-00000.parquet']);

    const split = perUserSplit(ds, { testFraction: 0.25, seed: 5 });
    const sdir = join(tmp.dir, 'split');
    await exportParquet(split, sdir, { partitions: 2, compression: 'snappy' });
    expect(content(await Dataset.fromParquet(join(sdir, 'train')))).toEqual(content(split.train));
    expect(content(await Dataset.fromParquet(join(sdir, 'test')))).toEqual(content(split.test));

    // Implicit data (no values, no times) and numeric ids.
    const imp = Dataset.fromArrays({ users: [5, 3, 5, 9], items: [1, 1, 2, 2] });
    const idir = join(tmp.dir, 'implicit');
    await exportParquet(imp, idir);
    const ib = await Dataset.fromParquet(idir);
    expect(ib.hasRatings).toBe(false);
    expect(ib.users.ids).toEqual([3, 5, 9]);
    expect(content(ib)).toEqual(content(imp));
  });
});

describe('malformed input gives RecsysError naming the file, row and column', () => {
  const write = (name: string, text: string) => tmp.file(text, name);

  it('a missing column, a wrong type, a missing file', async () => {
    const f = write('nocol.csv', 'user,product,rating\n1,2,3\n');
    let e = await rejection(Dataset.fromCsv(f));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toContain('nocol.csv');
    expect(e.message).toContain('"item"');
    expect(e.message).toContain('product');

    const g = write('types.csv', 'user,item,rating\n1,2,good\n3,4,bad\n');
    e = await rejection(Dataset.fromCsv(g));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toMatch(/types\.csv.*"rating".*VARCHAR/);

    const h = write('floatid.csv', 'user,item\n1.5,2\n');
    e = await rejection(Dataset.fromCsv(h));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toContain('"user"');

    e = await rejection(Dataset.fromParquet(join(tmp.dir, 'nothing-*.parquet')));
    expect(e.code).toBe('E_IO');
    expect(e.message).toContain('nothing-');
  });

  it('NULL ids and NaN ratings name the file and row; a duplicate with duplicates: error names both rows', async () => {
    const nul = write('nulls.csv', 'user,item,rating\n1,2,3\n4,,5\n');
    const pq = join(tmp.dir, 'nulls.parquet');
    await toParquet(nul, pq);
    let e = await rejection(Dataset.fromParquet(pq));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toContain(`${pq}: row 2`);
    expect(e.message).toContain('item ("item") is NULL');
    e = await rejection(Dataset.fromCsv(nul));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toContain('nulls.csv: data row 2');

    const nan = write('nan.csv', 'user,item,rating\n1,2,3\n4,5,3\n6,7,nan\n');
    e = await rejection(Dataset.fromCsv(nan));
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toMatch(/nan\.csv: data row 3: rating \("rating"\) is not a finite float/);
    e = await rejection(Dataset.fromQuery(`SELECT * FROM read_csv('${nan}')`));
    expect(e.message).toContain('row 3 of the query');
    // The where clause can leave the bad row out.
    expect((await Dataset.fromCsv(nan, { where: 'user < 5' })).nnz).toBe(2);

    const dup = write('dup.csv', 'user,item\n1,2\n3,4\n1,2\n');
    e = await rejection(Dataset.fromCsv(dup, { duplicates: 'error' }));
    expect(e.code).toBe('E_DUPLICATE');
    expect(e.message).toContain('user 1 and item 2');
    expect(e.message).toContain('dup.csv: data row 1 and');
    expect(e.message).toContain('dup.csv: data row 3');
  });

  it('bad options and bad SQL are E_ARG; remote paths are refused without downloading anything', async () => {
    expect((await rejection(Dataset.fromQuery('SELEC 1'))).code).toBe('E_ARG');
    expect((await rejection(Dataset.fromQuery('SELECT 1 AS a'))).code).toBe('E_PARSE');
    expect((await rejection(Dataset.fromQuery('SELECT 1 AS "user", 2 AS item; DROP TABLE x'))).code).toBe('E_ARG');
    expect((await rejection(Dataset.fromQuery('SELECT 1 AS "user", 2 AS item', { minUserInteractions: 0 }))).code).toBe('E_ARG');
    expect((await rejection(Dataset.fromQuery('SELECT 1 AS "user", 2 AS item', { memoryLimit: 'lots' }))).code).toBe('E_ARG');
    expect((await rejection(Dataset.fromQuery('SELECT 1 AS "user", 2 AS item WHERE false'))).code).toBe('E_EMPTY');
    expect((await rejection(Dataset.fromParquet([]))).code).toBe('E_ARG');
    const t0 = performance.now();
    const e = await rejection(Dataset.fromParquet('s3://recsys-no-such-bucket/x.parquet'));
    expect(e.code).toBe('E_UNSUPPORTED');
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('ids beyond 2^53 stay exact as strings', async () => {
    const f = write('big.csv', 'user,item\n9007199254740993,1\n5,1\n');
    const ds = await Dataset.fromCsv(f);
    expect(ds.users.ids).toEqual(['5', '9007199254740993']);
  });
});

describe('arbitrary junk', () => {
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constant(NaN),
    fc.integer({ min: -5, max: 1e6 }),
    fc.string({ maxLength: 4 }),
    fc.boolean(),
    fc.array(fc.oneof(fc.integer({ min: -3, max: 30 }), fc.string({ maxLength: 2 }), fc.constant(null)), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
  );
  const typed = async (p: () => Promise<unknown>) => {
    try {
      await p();
    } catch (e) {
      expect(e).toBeInstanceOf(RecsysError);
      expect((e as RecsysError).code).toMatch(/^E_[A-Z_]+$/);
    }
  };
  it('the DuckDB and Spark entry points throw only RecsysErrors', async () => {
    const ds = Dataset.fromArrays({ users: [1, 2], items: [3, 3] });
    const model = FactorModel.fromFactors({ users: [1], items: [2], factors: 1, userFactors: Float32Array.of(1), itemFactors: Float32Array.of(1) });
    const dir = join(tmp.dir, 'junk');
    await fc.assert(
      fc.asyncProperty(junk, junk, async (a, b) => {
        await typed(() => Dataset.fromParquet(a as never, b as never));
        await typed(() => Dataset.fromCsv(a as never, { columns: b } as never));
        await typed(() => Dataset.fromQuery(a as never, { duplicates: b, where: a } as never));
        await typed(() => exportParquet((a ?? ds) as never, dir, { partitions: b, overwrite: true } as never));
        await typed(() => loadSparkALS(a as never, b as never));
        await typed(() => exportSparkALS((b ?? model) as never, dir, { overwrite: a } as never));
      }),
      { numRuns: 40 },
    );
  });
});

describe('loading', () => {
  it('importing recsys does not load DuckDB; the first DuckDB call does', () => {
    if (process.platform !== 'linux') return;
    const script = join(tmp.dir, 'lazy.mts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
const loaded = () => readFileSync('/proc/self/maps', 'utf8').includes('duckdb.node');
const { Dataset } = await import(${JSON.stringify(join(process.cwd(), 'ts/index.ts'))});
const before = loaded();
const ds = await Dataset.fromQuery('SELECT 1 AS "user", 2 AS item');
console.log(JSON.stringify({ before, after: loaded(), nnz: ds.nnz }));`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', cwd: process.cwd() });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ before: false, after: true, nnz: 1 });
  });

  it('a RecsysError is what every failure is', async () => {
    const e = await rejection(Dataset.fromCsv(join(tmp.dir, 'missing.csv')));
    expect(e).toBeInstanceOf(RecsysError);
    expect(e.code).toBe('E_IO');
  });
});
